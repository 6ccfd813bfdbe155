import type { BenchOptions } from "./bench-options.js";
import { callToolBody, jsonHeaders, type BenchTarget } from "./bench-targets.js";
import { checkEcho } from "./check-echo.js";
import { loadProblems, type LoadSpec } from "./load-spec.js";
import { startLoadProcess } from "./load-process.js";
import { startServerProcess } from "./server-process.js";
import { startSubscriberProcess } from "./subscriber-process.js";

/** What was measured for one server. */
export interface TargetMeasurement {
  readonly target: BenchTarget;
  /** Requests completed in the measured window (all 2xx). */
  readonly requests: number;
  readonly elapsedSeconds: number;
  readonly requestsPerSecond: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  /** Server child CPU (user + system) over the measured window, in microseconds. */
  readonly cpuMicros: number;
  readonly cpuMicrosPerCall: number;
}

/**
 * Benchmarks one server: starts its child, checks one call, warms it up, then measures while reading
 * the server's CPU time before and after. The load runs in a separate child; both are always stopped.
 */
export async function measureTarget(
  target: BenchTarget,
  options: BenchOptions,
  log: (line: string) => void,
): Promise<TargetMeasurement> {
  const server = await startServerProcess(target);
  try {
    log(`${target.label}: server pid ${server.pid} at ${server.url}`);
    await checkEcho(server.url, target);
    const subscribers =
      target.subscribers === undefined ? undefined : await startSubscriberProcess(new URL(server.url).origin, target.subscribers);
    if (subscribers !== undefined) log(`${target.label}: ${target.subscribers} WatchEvents streams open (subscriber pid ${subscribers.pid})`);
    const load = startLoadProcess();
    try {
      const spec = (durationSeconds: number): LoadSpec => ({
        url: server.url,
        body: target.body ?? callToolBody,
        headers: target.headers ?? jsonHeaders,
        connections: options.connections,
        durationSeconds,
      });
      log(`${target.label}: warm-up ${options.warmupSeconds} s (load pid ${load.pid})`);
      const warmup = await load.run(spec(options.warmupSeconds));
      const warmupProblems = loadProblems(warmup);
      if (warmupProblems !== undefined) throw new Error(`${target.label}: warm-up was not clean: ${warmupProblems}`);

      log(`${target.label}: measuring ${options.durationSeconds} s`);
      const received = await subscribers?.counts();
      const before = await server.cpu();
      const measured = await load.run(spec(options.durationSeconds));
      const after = await server.cpu();
      if (subscribers !== undefined && received !== undefined) {
        const now = await subscribers.counts();
        const perCall = (now.events - received.events) / (target.subscribers ?? 1) / measured.completed;
        log(`${target.label}: each subscriber received ${perCall.toFixed(2)} events per call; streams cut off: ${now.cutOff}`);
      }
      const problems = loadProblems(measured);
      if (problems !== undefined) throw new Error(`${target.label}: measured run was not clean: ${problems}`);

      const cpuMicros = after.userMicros - before.userMicros + (after.systemMicros - before.systemMicros);
      return {
        target,
        requests: measured.completed,
        elapsedSeconds: measured.elapsedSeconds,
        requestsPerSecond: measured.completed / measured.elapsedSeconds,
        p50Ms: measured.p50Ms,
        p99Ms: measured.p99Ms,
        cpuMicros,
        cpuMicrosPerCall: cpuMicros / measured.completed,
      };
    } finally {
      await load.stop();
      await subscribers?.stop();
    }
  } finally {
    await server.stop();
  }
}
