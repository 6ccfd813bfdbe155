import fc from "fast-check";
import { fuzzCase, type FuzzCase } from "./arbitraries.js";
import type { Answer } from "./answer.js";
import { checkAnswer } from "./answer-check.js";
import { startFuzzServer, type FuzzServer } from "./fuzz-server.js";
import { http1Bytes, sendHttp1 } from "./wire-http1.js";
import { http2Frames, http2Headers, sendHttp2, sendHttp2Frames } from "./wire-http2.js";

/** Options of {@link runFuzz}. */
export interface FuzzOptions {
  /** Requests to send in all. */
  readonly cases: number;
  /** fast-check seed (default: random). */
  readonly seed?: number;
  /** Replay only the case at this index of the seed's sequence (from a failure report). */
  readonly path?: number;
  /** Requests in flight at once (default 24). */
  readonly concurrency?: number;
  /** /health, stderr and RSS are checked after every this many requests (default 500). */
  readonly healthEvery?: number;
  /** Largest resident set size allowed to the server, in bytes (default 400 MiB). */
  readonly maxRssBytes?: number;
  /**
   * Keep going after a failure: report each new kind of failure through `log` (with its request
   * and replay command), restart the server after a crash, and fail the run at the end.
   */
  readonly all?: boolean;
  /** Progress lines (default: none). */
  readonly log?: (line: string) => void;
}

/** One failure a run found. */
export interface FuzzFailure {
  /** What is wrong. */
  readonly reason: string;
  /** The seed of the run. */
  readonly seed: number;
  /** Index of the failing case in the seed's sequence, when one case is to blame. */
  readonly path?: number;
  /** The request that failed, with the bytes it put on the wire. */
  readonly culprit?: { readonly case: FuzzCase; readonly wire: string };
  /** The command that replays it. */
  readonly replay: string;
}

/** What a fuzz run did. */
export interface FuzzReport {
  /** Requests sent and checked. */
  readonly cases: number;
  /** Wall time in seconds. */
  readonly seconds: number;
  /** CPU seconds the server used. */
  readonly serverCpuSeconds: number;
  /** The server's resident set size at start, at its largest and at the end, in bytes. */
  readonly rss: { readonly start: number; readonly max: number; readonly end: number };
  /** /health checks passed. */
  readonly healthChecks: number;
  /** The first failure (every kind of failure with `all`). */
  readonly failures: readonly FuzzFailure[];
}

/** Sends one case over its wire. */
export function sendCase(c: FuzzCase, port: number): Promise<Answer> {
  switch (c.wire) {
    case "http/1.0":
    case "http/1.1":
      return sendHttp1(c, port);
    case "h2":
      return sendHttp2(c, port);
    case "h2-frames":
      return sendHttp2Frames(c, port);
  }
}

/** What a case puts on the wire, printable: the HTTP/1 text, the HTTP/2 headers, or frame bytes in hex. */
export function wireText(c: FuzzCase, port: number): string {
  if (c.wire === "h2") return JSON.stringify({ headers: http2Headers(c, port), body: Buffer.from(c.body).toString("latin1") });
  if (c.wire === "h2-frames") return http2Frames(c, port).toString("hex");
  return JSON.stringify(http1Bytes(c, port).toString("latin1"));
}

/**
 * The cases of a seed, one fast-check run each: case i is the same for a given seed however many
 * are drawn, so an index replays one case.
 */
export function casesOf(seed: number, count: number): FuzzCase[] {
  return fc.sample(fuzzCase, { seed, numRuns: count });
}

/** The request text leak patterns are compared with (an echo of the request is no leak). */
function requestText(c: FuzzCase): string {
  const body = Buffer.from(c.body);
  return `${c.target} ${c.headers.map(([n, v]) => `${n}: ${v}`).join("\n")} ${body.toString("latin1")} ${body.toString("utf8")}`;
}

/** Checks a case's answer: undefined when well formed. */
export function judge(c: FuzzCase, answer: Answer): string | undefined {
  return checkAnswer(c, answer, requestText(c));
}

/** Checks the server itself: alive, /health serving, no stack trace on stderr, no error logged, RSS bounded. */
async function checkServer(server: FuzzServer, maxRssBytes: number): Promise<string | undefined> {
  if (server.exited()) return `the server process exited: ${server.exitReason()}`;
  if (/^\s+at /m.test(server.stderr())) return `the server printed a stack trace on stderr: ${server.stderr().slice(-1500)}`;
  const logged = server.errorLogs()[0];
  if (logged !== undefined) return `the server logged an error: ${logged.slice(0, 1500)}`;
  try {
    const res = await fetch(`${server.url}/health`, { signal: AbortSignal.timeout(5_000) });
    const body = (await res.json()) as { status?: string };
    if (res.status !== 200 || body.status !== "serving") return `/health answered ${res.status} ${JSON.stringify(body)}`;
  } catch (err) {
    return `/health did not answer: ${(err as Error).message}`;
  }
  const rss = server.rss();
  if (rss > maxRssBytes) return `the server's RSS is ${mb(rss)}, above ${mb(maxRssBytes)}`;
  return undefined;
}

/**
 * Finds which of the cases in flight when the server died killed it: a fresh server gets them one
 * at a time, each followed by a look at whether it is still alive.
 */
async function singleOut(suspects: readonly number[], cases: readonly FuzzCase[]): Promise<number | undefined> {
  let server = await startFuzzServer();
  try {
    for (const index of suspects) {
      const c = cases[index];
      if (c === undefined) continue;
      await sendCase(c, server.port);
      // A crash of Node prints its banner at once; the exit event can come much later on a busy machine.
      await new Promise((resolve) => setTimeout(resolve, 200));
      if (server.dying()) return index;
    }
    return undefined;
  } finally {
    await server.stop();
  }
}

/** A failure's kind: its reason without the numbers and quoted parts that differ between cases. */
function kindOf(reason: string): string {
  return reason.replace(/"[^"]*"|\d+/g, "#").slice(0, 80);
}

/** Starts `toolwire serve`, sends it `cases` requests, `concurrency` at a time, and reports failures. */
export async function runFuzz(options: FuzzOptions): Promise<FuzzReport> {
  const concurrency = options.concurrency ?? 24;
  const healthEvery = options.healthEvery ?? 500;
  const maxRssBytes = options.maxRssBytes ?? 400 * 1024 * 1024;
  const log = options.log ?? (() => undefined);
  const seed = options.seed ?? ((Date.now() ^ (Math.random() * 0x7fffffff)) | 0);
  const all = options.all === true;
  const started = performance.now();
  const cases = casesOf(seed, options.path === undefined ? options.cases : options.path + 1);
  const indexes = options.path === undefined ? cases.map((_, i) => i) : [options.path];
  let server = await startFuzzServer();
  const rss = { start: server.rss(), max: server.rss(), end: 0 };
  const failures: FuzzFailure[] = [];
  const kinds = new Set<string>();
  const inFlight = new Set<number>();
  let next = 0;
  let done = 0;
  let sinceCheck = 0;
  let healthChecks = 0;
  let stopped = false;
  let restarting: Promise<void> | undefined;

  const fail = async (reason: string, index: number | undefined) => {
    const kind = kindOf(reason);
    if (stopped || kinds.has(kind)) return;
    kinds.add(kind);
    if (!all) stopped = true;
    const c = index === undefined ? undefined : cases[index];
    const failure: FuzzFailure = {
      reason,
      seed,
      ...(index === undefined ? {} : { path: index }),
      ...(c === undefined ? {} : { culprit: { case: c, wire: wireText(c, server.port) } }),
      replay: index === undefined ? `npm run fuzz -- --seed ${seed} --cases ${options.cases}` : `npm run fuzz -- --seed ${seed} --path ${index}`,
    };
    failures.push(failure);
    if (all) log(describeFailure(failure));
  };

  // The server died: single out the case that killed it among those in flight, then go on (in --all mode) on a new one.
  const onCrash = (suspects: number[]) =>
    (restarting ??= (async () => {
      await new Promise((resolve) => setTimeout(resolve, 100));
      const reason = `the server process exited: ${server.exitReason()}`;
      await server.stop();
      if (!all) stopped = true;
      log("the server died; singling out the request that killed it on a fresh server…");
      const culprit = await singleOut(suspects, cases);
      stopped = false;
      await fail(reason, culprit);
      if (all) server = await startFuzzServer();
      restarting = undefined;
    })());

  const healthCheck = async () => {
    const wrong = await checkServer(server, maxRssBytes);
    if (wrong !== undefined && !server.exited()) await fail(wrong, undefined);
    healthChecks++;
    rss.max = Math.max(rss.max, server.rss());
    const seconds = (performance.now() - started) / 1000;
    log(`${done} cases, ${Math.round(done / seconds)}/s, server RSS ${mb(server.rss())}`);
  };

  const worker = async () => {
    while (!stopped && next < indexes.length) {
      if (restarting !== undefined) await restarting;
      if (stopped) break;
      const index = indexes[next++] as number;
      const c = cases[index] as FuzzCase;
      inFlight.add(index);
      const answer = await sendCase(c, server.port);
      if (server.dying() || answer.kind === "refused") {
        // Everything sent from a little before the crash is a suspect.
        const suspects = [...new Set([...inFlight, ...range(Math.max(0, index - 2 * concurrency), index + 1)])].sort((a, b) => a - b);
        inFlight.delete(index);
        await onCrash(suspects);
        continue;
      }
      inFlight.delete(index);
      const wrong = judge(c, answer);
      if (wrong !== undefined) await fail(wrong, index);
      done++;
      if (++sinceCheck >= healthEvery) {
        sinceCheck = 0;
        await healthCheck();
      }
    }
  };
  await Promise.all(range(0, concurrency).map(worker));
  if (restarting !== undefined) await restarting;
  if (!server.exited() && (all || failures.length === 0)) {
    const wrong = await checkServer(server, maxRssBytes);
    if (wrong !== undefined) await fail(wrong, undefined);
    healthChecks++;
  }
  rss.end = server.rss();
  rss.max = Math.max(rss.max, rss.end);
  const serverCpuSeconds = server.cpuSeconds();
  await server.stop();
  return { cases: done, seconds: (performance.now() - started) / 1000, serverCpuSeconds, rss, healthChecks, failures };
}

function range(from: number, to: number): number[] {
  return Array.from({ length: Math.max(0, to - from) }, (_, i) => from + i);
}

/** Bytes as MiB, for reports. */
export function mb(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}

/** A failure as a few printable lines: reason, seed and path, the request, the replay command. */
export function describeFailure(failure: FuzzFailure): string {
  const lines = [`FAILED: ${failure.reason}`, `seed ${failure.seed}${failure.path === undefined ? "" : `, path ${failure.path}`}`];
  if (failure.culprit !== undefined) {
    const { case: c, wire } = failure.culprit;
    const notes = [c.wire, c.surface, ...(c.cut === "none" ? [] : [`cut ${c.cut}`]), ...(c.wire === "h2-frames" ? [`fault ${c.frameFault}`] : [])];
    lines.push(`request (${notes.join(", ")}): ${wire.slice(0, 2000)}`);
  }
  lines.push(`replay: ${failure.replay}`);
  return lines.join("\n");
}
