import { spawn } from "node:child_process";
import type { Readable } from "node:stream";
import { round2 } from "./round.js";

/** What to run and the limits to run it under. */
export interface RunProcessOptions {
  /** Program name (looked up on PATH) or path. */
  readonly command: string;
  /** argv[0] of the program; `command` when absent. */
  readonly argv0?: string;
  /** Arguments, passed without a shell. */
  readonly args: readonly string[];
  /** Working directory; the current one when absent. */
  readonly cwd?: string;
  /** Environment of the program. */
  readonly env: NodeJS.ProcessEnv;
  /** Text written to standard input, which is then closed. */
  readonly stdin?: string;
  /** Time limit after which the process group is killed. */
  readonly timeoutMs: number;
  /** Most bytes kept of stdout and of stderr each. */
  readonly maxOutputBytes: number;
  /** Aborting kills the process group like a timeout does. */
  readonly signal: AbortSignal;
}

/** How a process ended and what it wrote. */
export interface ProcessOutcome {
  /** Exit code, or null when a signal ended the program. */
  readonly exitCode: number | null;
  /** Signal that ended the program, or null. */
  readonly signal: string | null;
  /** Standard output kept, as UTF-8. */
  readonly stdout: string;
  /** Standard error kept, as UTF-8. */
  readonly stderr: string;
  /** More stdout was written than kept. */
  readonly stdoutTruncated: boolean;
  /** More stderr was written than kept. */
  readonly stderrTruncated: boolean;
  /** The time limit ran out. */
  readonly timedOut: boolean;
  /** The abort signal fired before the process ended. */
  readonly aborted: boolean;
  /** Milliseconds from spawn until the output closed. */
  readonly durationMs: number;
}

/** Time a process group gets between SIGTERM and SIGKILL. */
const killGraceMs = 500;
/**
 * How long to wait for stdout/stderr to close after SIGKILL. A descendant that moved to its own
 * session escapes the group kill and may hold the pipes open forever; we stop listening then.
 */
const closeGraceMs = 500;

/**
 * Runs a program without a shell in its own process group, capturing capped output. On timeout
 * or abort the whole group gets SIGTERM, then SIGKILL after a grace period; when the program ends
 * normally, any descendants it left in its group are killed too, so nothing outlives the call.
 * Rejects only when the program cannot be started (the error carries `code`, e.g. ENOENT).
 */
export function runProcess(options: RunProcessOptions): Promise<ProcessOutcome> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(options.command, [...options.args], {
      argv0: options.argv0,
      cwd: options.cwd,
      env: options.env,
      shell: false,
      // A new process group (and session) lets one kill(-pid) reach every descendant.
      detached: true,
      stdio: ["pipe", "pipe", "pipe"],
      windowsHide: true,
    });
    const stdout = capture(child.stdout, options.maxOutputBytes);
    const stderr = capture(child.stderr, options.maxOutputBytes);
    let timedOut = false;
    let aborted = false;
    let exit: { code: number | null; signal: string | null } | undefined;
    let settled = false;
    const timers = new Set<NodeJS.Timeout>();
    const later = (ms: number, fn: () => void) => {
      const t = setTimeout(() => {
        timers.delete(t);
        fn();
      }, ms);
      timers.add(t);
    };

    const killGroup = (sig: NodeJS.Signals) => {
      if (child.pid === undefined) return;
      try {
        process.kill(-child.pid, sig);
      } catch {
        // ESRCH: every process of the group is already gone.
      }
    };
    let stopping = false;
    const stop = () => {
      if (stopping) return;
      stopping = true;
      killGroup("SIGTERM");
      later(killGraceMs, () => {
        killGroup("SIGKILL");
        later(closeGraceMs, () => finish(exit?.code ?? null, exit?.signal ?? "SIGKILL"));
      });
    };
    const onAbort = () => {
      aborted = true;
      stop();
    };

    const finish = (code: number | null, signal: string | null) => {
      if (settled) return;
      settled = true;
      for (const t of timers) clearTimeout(t);
      timers.clear();
      options.signal.removeEventListener("abort", onAbort);
      killGroup("SIGKILL");
      child.stdin.destroy();
      child.stdout.destroy();
      child.stderr.destroy();
      resolve({
        exitCode: code,
        signal,
        stdout: stdout.text(),
        stderr: stderr.text(),
        stdoutTruncated: stdout.truncated,
        stderrTruncated: stderr.truncated,
        timedOut,
        aborted,
        durationMs: round2(performance.now() - started),
      });
    };

    child.once("error", (err) => {
      // Spawn failures (ENOENT, EACCES) come here before any exit; later errors cannot occur
      // because we never use child.kill().
      if (settled) return;
      settled = true;
      for (const t of timers) clearTimeout(t);
      options.signal.removeEventListener("abort", onAbort);
      reject(err);
    });
    child.once("exit", (code, signal) => {
      exit = { code, signal };
    });
    // close comes after exit and after both pipes are drained, so the output is complete.
    child.once("close", (code, signal) => finish(code, signal));

    // A program that exits without reading its input makes the write fail with EPIPE; that is fine.
    child.stdin.on("error", () => undefined);
    child.stdin.end(options.stdin ?? "");

    later(options.timeoutMs, () => {
      timedOut = true;
      stop();
    });
    if (options.signal.aborted) onAbort();
    else options.signal.addEventListener("abort", onAbort, { once: true });
  });
}

/** Output collected from one stream. */
interface Capture {
  /** What was kept, as UTF-8. */
  text(): string;
  /** Whether more was written than kept. */
  readonly truncated: boolean;
}

function capture(stream: Readable, maxBytes: number): Capture {
  const chunks: Buffer[] = [];
  let size = 0;
  let truncated = false;
  // Keep reading past the cap and drop the bytes: a full pipe would block the program.
  stream.on("data", (chunk: Buffer) => {
    const room = maxBytes - size;
    if (chunk.length > room) truncated = true;
    if (room <= 0) return;
    const kept = chunk.length > room ? chunk.subarray(0, room) : chunk;
    chunks.push(kept);
    size += kept.length;
  });
  stream.on("error", () => undefined);
  return {
    text: () => Buffer.concat(chunks).toString("utf8"),
    get truncated() {
      return truncated;
    },
  };
}
