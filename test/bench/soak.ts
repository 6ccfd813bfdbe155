// `npm run soak`: every surface of `toolwire serve` at once, for minutes, at 80 % of the capacity a
// closed-loop burst measured first; reports calls, errors, latency, RSS and CPU per window and fails
// on any error or on RSS growth. The server, the driver (all clients) and the event subscribers run
// in separate processes, stopped by pid; see soak-options.ts for flags.
import { benchEnvironment, median } from "./bench-report.js";
import { killAllChildrenNow, stopAllChildren } from "./child-processes.js";
import { cpuMicrosOf, rssBytesOf } from "./process-cpu.js";
import type { DriverProcess } from "./soak-driver-process.js";
import { startDriverProcess } from "./soak-driver-process.js";
import { parseSoakOptions, soakUsage, targetShare, type SoakOptions } from "./soak-options.js";
import { buildSoakReport, countsSince, type Capacity, soakHeading, soakSummary, soakTableRow, type RssSample, type SoakWindow } from "./soak-report.js";
import { soakApiKey, startSoakServer, type SoakServer } from "./soak-server.js";
import { surfaceDescriptions } from "./soak-surfaces.js";
import { startSubscriberProcess, type SubscriberCounts, type SubscriberProcess } from "./subscriber-process.js";

const log = (line: string): void => {
  process.stderr.write(`[soak] ${line}\n`);
};

/** Streams held open during the soak, of each kind. */
const watchStreams = 2;
const sseStreams = 2;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The server's V8 heap in use, from its Prometheus /metrics (null if it does not report it). */
async function heapUsedBytes(url: string): Promise<number | null> {
  const response = await fetch(`${url}/metrics`, { headers: { "x-api-key": soakApiKey } });
  const text = await response.text();
  if (!response.ok) throw new Error(`/metrics answered ${response.status}: ${text.slice(0, 200)}`);
  const value = /^nodejs_heap_size_used_bytes(?:\{[^}]*\})? (\S+)$/m.exec(text)?.[1];
  return value === undefined ? null : Number(value);
}

/** Waits until the subscribers have read every event published so far (their count stops growing). */
async function settledCounts(subscribers: SubscriberProcess): Promise<SubscriberCounts> {
  let previous = await subscribers.counts();
  for (let i = 0; i < 50; i++) {
    await sleep(200);
    const now = await subscribers.counts();
    if (now.events === previous.events) return now;
    previous = now;
  }
  return previous;
}

/** The processes a soak watches. */
interface Watched {
  readonly server: SoakServer;
  readonly driver: DriverProcess;
  readonly subscribers: SubscriberProcess;
}

/** Cumulative readings a window is measured against. */
interface Readings {
  readonly counts: SubscriberCounts;
  readonly serverCpu: number;
  readonly driverCpu: number;
}

async function read(watched: Watched, settle: boolean): Promise<Readings> {
  return {
    counts: settle ? await settledCounts(watched.subscribers) : await watched.subscribers.counts(),
    serverCpu: cpuMicrosOf([watched.server.pid]),
    driverCpu: cpuMicrosOf([watched.driver.pid]),
  };
}

/** Ends one window: the driver's figures, the server's heap (a /metrics call that may itself fail) and CPU, and the streams' counts. */
async function closeWindow(watched: Watched, index: number, endSeconds: number, rssSamples: readonly number[], before: Readings, last: boolean) {
  if (last) await watched.driver.drain(10_000);
  const window = await watched.driver.window();
  const now = await read(watched, last);
  const firstErrors = [...window.firstErrors];
  let heapUsed: number | null = null;
  try {
    heapUsed = await heapUsedBytes(watched.server.url);
  } catch (error) {
    firstErrors.push(`metrics: ${error instanceof Error ? error.message : String(error)}`);
  }
  const micros = window.seconds * 1_000_000;
  const row: SoakWindow = {
    ...window,
    errors: window.errors + firstErrors.length - window.firstErrors.length,
    firstErrors,
    index,
    endSeconds,
    callsPerSecond: window.calls / window.seconds,
    rssBytes: median(rssSamples),
    heapUsedBytes: heapUsed,
    serverCpuPercent: ((now.serverCpu - before.serverCpu) / micros) * 100,
    driverCpuPercent: ((now.driverCpu - before.driverCpu) / micros) * 100,
    subscribers: countsSince(now.counts, before.counts),
  };
  return { row, now };
}

/** Runs the open loop for the whole duration, one window at a time, sampling the server's RSS each second. */
async function soak(options: SoakOptions, watched: Watched, rate: number, print: (w: SoakWindow) => void) {
  const windows: SoakWindow[] = [];
  const samples: RssSample[] = [];
  const { server } = watched;
  let before = await read(watched, false);
  await watched.driver.start(rate);
  const started = performance.now();
  const elapsed = () => (performance.now() - started) / 1000;
  const windowCount = Math.ceil(options.durationSeconds / options.windowSeconds);
  for (let index = 1; index <= windowCount; index++) {
    const end = Math.min(index * options.windowSeconds, options.durationSeconds);
    const rssSamples: number[] = [];
    do {
      await sleep(Math.max(0, Math.min(1000, (end - elapsed()) * 1000)));
      const bytes = rssBytesOf(server.pid);
      if (bytes === undefined) throw new Error(`the server (pid ${server.pid}) is gone; its output:\n${server.logLines().join("\n")}`);
      samples.push({ seconds: elapsed(), bytes });
      rssSamples.push(bytes);
    } while (elapsed() < end);
    const { row, now } = await closeWindow(watched, index, elapsed(), rssSamples, before, index === windowCount);
    before = now;
    windows.push(row);
    print(row);
    if (row.errors > 0 || row.subscribers.errors > 0) {
      log(`window ${index}: ${row.errors} call errors, ${row.subscribers.errors} stream errors: ${[...row.firstErrors, ...row.subscribers.firstErrors][0] ?? ""}`);
    }
  }
  return { windows, samples };
}

// Started outside the fork helpers: stopped here on a signal, and by pid if this process exits early.
let running: SoakServer | undefined;

/** The closed-loop burst, with the share of a core the server and the driver used meanwhile (which of them limits it). */
async function measureCapacity(options: SoakOptions, server: SoakServer, driver: DriverProcess): Promise<Capacity> {
  const before = { server: cpuMicrosOf([server.pid]), driver: cpuMicrosOf([driver.pid]) };
  const measured = await driver.measure(options.capacitySeconds, options.capacityConcurrency);
  const micros = measured.seconds * 1_000_000;
  return {
    ...measured,
    serverCpuPercent: ((cpuMicrosOf([server.pid]) - before.server) / micros) * 100,
    driverCpuPercent: ((cpuMicrosOf([driver.pid]) - before.driver) / micros) * 100,
  };
}

async function main(): Promise<boolean> {
  const options = parseSoakOptions(process.argv.slice(2));
  if (options.help) {
    console.log(soakUsage);
    return true;
  }
  const server = await startSoakServer();
  running = server;
  try {
    log(`toolwire serve pid ${server.pid} at ${server.url}`);
    const subscribers = await startSubscriberProcess(server.url, watchStreams, { sseStreams, apiKey: soakApiKey });
    log(`${watchStreams} WatchEvents and ${sseStreams} /events streams open (subscriber pid ${subscribers.pid})`);
    const driver = await startDriverProcess(server.url, soakApiKey);
    log(`driver pid ${driver.pid}: every surface answered once`);
    log(`measuring capacity: ${options.capacityConcurrency} closed loops for ${options.capacitySeconds} s`);
    const capacity = await measureCapacity(options, server, driver);
    if (capacity.errors > 0) throw new Error(`${capacity.errors} calls failed while measuring capacity: ${capacity.firstErrors.join("; ")}`);
    const rate = options.rate ?? Math.max(1, Math.round(capacity.callsPerSecond * targetShare));
    log(`capacity ${capacity.callsPerSecond.toFixed(0)} calls/s; soaking at ${rate} calls/s for ${options.durationSeconds} s`);
    const descriptions = surfaceDescriptions;
    const settings = { durationSeconds: options.durationSeconds, windowSeconds: options.windowSeconds, rate, rateSource: options.rate === undefined ? `${targetShare * 100} % of the measured capacity` : "--rate" };
    if (!options.json) console.log(soakHeading({ environment: benchEnvironment(), settings, capacity, surfaces: descriptions }));
    const { windows, samples } = await soak(options, { server, driver, subscribers }, rate, (w) => {
      if (!options.json) console.log(soakTableRow(w));
    });
    const report = buildSoakReport({ options, capacity, rate, surfaces: descriptions, windows, samples, serverLogLines: server.logLines(), eventStreams: watchStreams + sseStreams });
    console.log(options.json ? JSON.stringify(report, null, 2) : soakSummary(report));
    return report.verdict.passed;
  } finally {
    await stopAllChildren();
    await server.stop();
    running = undefined;
  }
}

let interruptedBy: NodeJS.Signals | undefined;
for (const [signal, code] of [["SIGINT", 130], ["SIGTERM", 143]] as const) {
  process.once(signal, () => {
    interruptedBy = signal;
    log(`${signal}: stopping children`);
    void Promise.all([stopAllChildren(), running?.stop()]).finally(() => process.exit(code));
  });
}
process.once("exit", () => {
  killAllChildrenNow();
  if (running !== undefined) process.kill(running.pid, "SIGKILL");
});

try {
  if (!(await main())) process.exitCode = 1;
} catch (error) {
  if (interruptedBy === undefined) {
    log(`FAILED: ${error instanceof Error ? error.message : String(error)}`);
    process.exitCode = 1;
  }
}
