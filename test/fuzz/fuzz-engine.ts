import fc from "fast-check";
import { fuzzCase, type FuzzCase } from "./arbitraries.js";
import type { Answer } from "./answer.js";
import { checkAnswer } from "./answer-check.js";
import { startFuzzServer, type FuzzServer } from "./fuzz-server.js";
import { http1Bytes, sendHttp1 } from "./wire-http1.js";
import { http2Frames, http2Headers, sendHttp2, sendHttp2Frames } from "./wire-http2.js";

/** Options of {@link runFuzz}. */
export interface FuzzOptions {
  /** Requests to send in all (rounded up to whole batches). */
  readonly cases: number;
  /** fast-check seed (default: random). */
  readonly seed?: number;
  /** fast-check path of one batch to replay (from a failure report). */
  readonly path?: string;
  /** Requests sent at once, one fast-check run each batch (default 16). */
  readonly batchSize?: number;
  /** /health and RSS are checked after this many requests (default 500). */
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

/** The first failure a run found. */
export interface FuzzFailure {
  /** What is wrong. */
  readonly reason: string;
  /** The seed of the run. */
  readonly seed: number;
  /** The fast-check path of the failing batch. */
  readonly path: string;
  /** The request that failed, once singled out, with the bytes it put on the wire. */
  readonly culprit?: { readonly case: FuzzCase; readonly wire: string };
  /** The command that replays the failing batch. */
  readonly replay: string;
}

/** What a fuzz run did. */
export interface FuzzReport {
  /** Requests sent. */
  readonly cases: number;
  /** Wall time in seconds. */
  readonly seconds: number;
  /** The server's resident set size at start, at its largest and at the end, in bytes. */
  readonly rss: { readonly start: number; readonly max: number; readonly end: number };
  /** /health checks passed. */
  readonly healthChecks: number;
  /** The first failure, if any. */
  readonly failure?: FuzzFailure;
}

class CaseFailure extends Error {
  constructor(
    message: string,
    readonly culprit?: FuzzCase,
  ) {
    super(message);
  }
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

/** What a case puts on the wire, printable: the HTTP/1 text, the HTTP/2 headers or frame bytes. */
export function wireText(c: FuzzCase, port: number): string {
  if (c.wire === "h2") return JSON.stringify({ headers: http2Headers(c, port), body: Buffer.from(c.body).toString("latin1") });
  if (c.wire === "h2-frames") return http2Frames(c, port).toString("hex");
  return JSON.stringify(http1Bytes(c, port).toString("latin1"));
}

/** The request text to compare leak patterns against (an echo of the request is no leak). */
function requestText(c: FuzzCase): string {
  return `${c.target} ${c.headers.map(([n, v]) => `${n}: ${v}`).join("\n")} ${Buffer.from(c.body).toString("latin1")} ${Buffer.from(c.body).toString("utf8")}`;
}

/** Checks the server's own health: alive, /health answering, no stack trace on stderr, RSS bounded. */
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

/** Sends a batch at once and checks every answer, then the server's survival; returns the failures. */
async function runBatch(server: FuzzServer, batch: readonly FuzzCase[]): Promise<CaseFailure[]> {
  const answers = await Promise.all(batch.map((c) => sendCase(c, server.port)));
  // A crash shows as refused or unanswered requests: report it as what it is.
  await new Promise((resolve) => setTimeout(resolve, server.exited() ? 0 : 1));
  if (server.exited()) return [new CaseFailure(`the server process exited: ${server.exitReason()}`)];
  const failures: CaseFailure[] = [];
  for (const [i, c] of batch.entries()) {
    const answer = answers[i];
    if (answer === undefined) continue;
    const wrong = checkAnswer(c, answer, requestText(c));
    if (wrong !== undefined) failures.push(new CaseFailure(wrong, c));
  }
  return failures;
}

/** A failure's kind: its reason without the numbers and quoted parts that differ between cases. */
function kindOf(reason: string): string {
  return reason.replace(/"[^"]*"|\d+/g, "#").slice(0, 80);
}

/**
 * Finds which request of a batch kills the server (or otherwise fails): a fresh server gets
 * them one at a time, each followed by a look at whether it is still alive.
 */
async function singleOut(batch: readonly FuzzCase[], maxRssBytes: number): Promise<FuzzCase | undefined> {
  const server = await startFuzzServer();
  try {
    for (const c of batch) {
      const answer = await sendCase(c, server.port);
      await new Promise((resolve) => setTimeout(resolve, 50));
      if (server.exited() || checkAnswer(c, answer, requestText(c)) !== undefined) return c;
      if ((await checkServer(server, maxRssBytes)) !== undefined) return c;
    }
    return undefined;
  } finally {
    await server.stop();
  }
}

/** Starts `toolwire serve`, fuzzes it with `cases` requests and reports the first failure. */
export async function runFuzz(options: FuzzOptions): Promise<FuzzReport> {
  const batchSize = options.batchSize ?? 16;
  const healthEvery = options.healthEvery ?? 500;
  const maxRssBytes = options.maxRssBytes ?? 400 * 1024 * 1024;
  const log = options.log ?? (() => undefined);
  const seed = options.seed ?? (Date.now() ^ (Math.random() * 0x7fffffff)) | 0;
  const started = performance.now();
  let server = await startFuzzServer();
  const rss = { start: server.rss(), max: server.rss(), end: 0 };
  let sent = 0;
  let sinceCheck = 0;
  let healthChecks = 0;
  let lastFailure: CaseFailure | undefined;
  let failedBatch: readonly FuzzCase[] = [];
  const property = fc.asyncProperty(fc.array(fuzzCase, { minLength: batchSize, maxLength: batchSize }), async (batch) => {
    runIndex++;
    if (server.exited()) server = await startFuzzServer();
    try {
      const failures = await runBatch(server, batch);
      if (failures.length > 0 && options.all === true) await noteAll(failures, batch);
      else if (failures[0] !== undefined) throw failures[0];
      sent += batch.length;
      sinceCheck += batch.length;
      if (sinceCheck >= healthEvery) {
        sinceCheck = 0;
        const wrong = await checkServer(server, maxRssBytes);
        if (wrong !== undefined) throw new CaseFailure(wrong);
        healthChecks++;
        rss.max = Math.max(rss.max, server.rss());
        const seconds = (performance.now() - started) / 1000;
        log(`${sent} cases, ${Math.round(sent / seconds)}/s, server RSS ${mb(server.rss())}`);
      }
    } catch (err) {
      lastFailure = err instanceof CaseFailure ? err : new CaseFailure(String((err as Error).stack ?? err));
      failedBatch = batch;
      throw lastFailure;
    }
  });
  const kinds = new Set<string>();
  let runIndex = -1;
  // In --all mode: logs each new kind of failure and carries on (a crash is singled out first).
  const noteAll = async (failures: readonly CaseFailure[], batch: readonly FuzzCase[]) => {
    for (const f of failures) {
      const kind = kindOf(f.message);
      if (kinds.has(kind)) continue;
      kinds.add(kind);
      let culprit = f.culprit;
      if (culprit === undefined && server.exited()) {
        await server.stop();
        culprit = await singleOut(batch, maxRssBytes);
        server = await startFuzzServer();
      }
      const failure = { reason: f.message, seed, path: String(runIndex), replay: `npm run fuzz -- --seed ${seed} --path ${runIndex}` };
      log(describeFailure(culprit === undefined ? failure : { ...failure, culprit: { case: culprit, wire: wireText(culprit, server.port) } }));
    }
  };
  const numRuns = options.path === undefined ? Math.ceil(options.cases / batchSize) : 1;
  const result = await fc.check(property, {
    seed,
    numRuns,
    endOnFailure: true,
    ...(options.path === undefined ? {} : { path: options.path }),
  });
  let failure: FuzzFailure | undefined;
  if (result.failed) {
    const path = result.counterexamplePath ?? "";
    const port = server.port;
    let culprit = lastFailure?.culprit;
    rss.end = server.rss();
    await server.stop();
    if (culprit === undefined && failedBatch.length > 0) {
      log("singling out the failing request on a fresh server…");
      culprit = await singleOut(failedBatch, maxRssBytes);
    }
    failure = {
      reason: lastFailure?.message ?? String(result.errorInstance),
      seed,
      path,
      ...(culprit === undefined ? {} : { culprit: { case: culprit, wire: wireText(culprit, port) } }),
      replay: `npm run fuzz -- --seed ${seed} --path ${path}`,
    };
  } else {
    const wrong = await checkServer(server, maxRssBytes);
    rss.end = server.rss();
    rss.max = Math.max(rss.max, rss.end);
    await server.stop();
    if (wrong !== undefined) failure = { reason: wrong, seed, path: "", replay: `npm run fuzz -- --seed ${seed} --cases ${options.cases}` };
    else if (kinds.size > 0) failure = { reason: `${kinds.size} kinds of failure, logged above`, seed, path: "", replay: `npm run fuzz -- --all --seed ${seed} --cases ${options.cases}` };
  }
  return { cases: sent, seconds: (performance.now() - started) / 1000, rss, healthChecks, ...(failure === undefined ? {} : { failure }) };
}

/** Bytes as MiB, for reports. */
export function mb(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}

/** A failure as a few printable lines: reason, seed and path, the request, the replay command. */
export function describeFailure(failure: FuzzFailure): string {
  const lines = [`FAILED: ${failure.reason}`, `seed ${failure.seed}, path ${failure.path}`];
  if (failure.culprit !== undefined) {
    const { case: c, wire } = failure.culprit;
    lines.push(`request (${c.wire}, ${c.surface}${c.cut === "none" ? "" : `, cut ${c.cut}`}${c.wire === "h2-frames" ? `, fault ${c.frameFault}` : ""}): ${wire.slice(0, 2000)}`);
  }
  lines.push(`replay: ${failure.replay}`);
  return lines.join("\n");
}
