import { spawn, type ChildProcess } from "node:child_process";
import type { Readable } from "node:stream";
import { launcherSource, parseLaunchStatus, type LaunchSpec } from "./contained-launcher.js";
import { createRunCgroup, detectContainment, type Containment, type ContainmentKind, type RunCgroup } from "./process-containment.js";
import { round2 } from "./round.js";

/** What to run and the limits to run it under. */
export interface RunProcessOptions {
  /** Program path (or a name looked up on PATH). */
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
  /** Time limit after which the program and its descendants are killed. */
  readonly timeoutMs: number;
  /** Most bytes kept of stdout and of stderr each. */
  readonly maxOutputBytes: number;
  /** Aborting kills the program and its descendants like a timeout does. */
  readonly signal: AbortSignal;
  /** How descendants are contained; the strongest the host allows ({@link detectContainment}) when absent. */
  readonly containment?: Containment;
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
  /** How the program's descendants were contained. */
  readonly containment: ContainmentKind;
}

/** Time a program gets between SIGTERM and SIGKILL. */
const killGraceMs = 500;
/**
 * How long to wait for stdout/stderr to close once the program has exited or been killed. Under
 * `process-group` containment a descendant that moved to its own session escapes the kill and
 * may hold the pipes open forever; the call ends anyway after this grace.
 */
const closeGraceMs = 500;

/**
 * Runs a program without a shell, capturing capped output, so that nothing it started outlives
 * the call: inside a PID namespace or a cgroup of its own when the host allows (see
 * {@link Containment}), always in a process group of its own. On timeout or abort the group gets
 * SIGTERM, then everything SIGKILL after a grace period; when the program ends, whatever it left
 * behind is killed too. Rejects only when the program cannot be started (the error carries
 * `code`, e.g. ENOENT).
 */
export async function runProcess(options: RunProcessOptions): Promise<ProcessOutcome> {
  const containment = options.containment ?? (await detectContainment());
  const cgroup = containment.kind === "cgroup" ? await createRunCgroup(containment.parent) : undefined;
  try {
    return await supervise(options, containment, cgroup);
  } finally {
    if (cgroup !== undefined) {
      await cgroup.kill();
      void cgroup.remove();
    }
  }
}

/** Spawns the program (through the launcher when contained) in a new process group. */
function spawnContained(options: RunProcessOptions, containment: Containment, cgroup: RunCgroup | undefined): ChildProcess {
  const common = {
    cwd: options.cwd,
    shell: false,
    // A new process group (and session) lets one kill(-pid) reach every descendant that stays in it.
    detached: true,
    windowsHide: true,
  } as const;
  if (containment.kind === "process-group") {
    return spawn(options.command, [...options.args], { ...common, argv0: options.argv0, env: options.env, stdio: ["pipe", "pipe", "pipe"] });
  }
  const spec: LaunchSpec = {
    command: options.command,
    argv0: options.argv0 ?? options.command,
    env: options.env,
    ...(cgroup === undefined ? {} : { cgroup: cgroup.path }),
  };
  const launcher = [process.execPath, "-e", launcherSource, "--", JSON.stringify(spec), ...options.args];
  const [file, ...args] = containment.kind === "pid-namespace" ? [containment.unshare, ...containment.flags, "--", ...launcher] : launcher;
  // fd 3 carries the launcher's report of how the program ended.
  return spawn(file!, args, { ...common, env: {}, stdio: ["pipe", "pipe", "pipe", "pipe"] });
}

function supervise(options: RunProcessOptions, containment: Containment, cgroup: RunCgroup | undefined): Promise<ProcessOutcome> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const contained = containment.kind !== "process-group";
    const child = spawnContained(options, containment, cgroup);
    const stdout = capture(child.stdout!, options.maxOutputBytes);
    const stderr = capture(child.stderr!, options.maxOutputBytes);
    const report = contained ? capture(child.stdio[3] as Readable, 4096) : undefined;
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
      return t;
    };
    const cancel = (t: NodeJS.Timeout) => {
      clearTimeout(t);
      timers.delete(t);
    };

    const killAll = (sig: NodeJS.Signals) => {
      if (child.pid !== undefined) {
        try {
          process.kill(-child.pid, sig);
        } catch {
          // ESRCH: every process of the group is already gone.
        }
      }
      // Under a PID namespace, SIGKILL reaches unshare, whose --kill-child ends the namespace.
      if (sig === "SIGKILL") void cgroup?.kill();
    };
    let stopping = false;
    const stop = () => {
      if (stopping) return;
      stopping = true;
      killAll("SIGTERM");
      later(killGraceMs, () => {
        killAll("SIGKILL");
        later(closeGraceMs, () => finish());
      });
    };
    const onAbort = () => {
      aborted = true;
      stop();
    };
    const cleanUp = () => {
      settled = true;
      for (const t of timers) clearTimeout(t);
      timers.clear();
      options.signal.removeEventListener("abort", onAbort);
    };

    const finish = () => {
      if (settled) return;
      cleanUp();
      killAll("SIGKILL");
      for (const stream of child.stdio) stream?.destroy();
      const status = report === undefined ? undefined : parseLaunchStatus(report.text());
      if (status !== undefined && "error" in status) {
        reject(Object.assign(new Error(status.message), { code: status.error }));
        return;
      }
      // A contained launcher that sent no report was killed (it ignores every other signal).
      const ended = status ?? (contained ? { code: null, signal: exit?.signal ?? "SIGKILL" } : exit) ?? { code: null, signal: "SIGKILL" };
      resolve({
        exitCode: ended.code,
        signal: ended.signal,
        stdout: stdout.text(),
        stderr: stderr.text(),
        stdoutTruncated: stdout.truncated,
        stderrTruncated: stderr.truncated,
        timedOut,
        aborted,
        durationMs: round2(performance.now() - started),
        containment: containment.kind,
      });
    };

    child.once("error", (err) => {
      // Spawn failures (ENOENT, EACCES) come here before any exit; later errors cannot occur
      // because we never use child.kill().
      if (settled) return;
      cleanUp();
      reject(err);
    });
    child.once("exit", (code, signal) => {
      exit = { code, signal };
      // The program has ended: it can no longer time out, and a descendant holding its pipes
      // open must not keep the call waiting.
      cancel(timeout);
      later(closeGraceMs, () => finish());
    });
    // close comes after exit and after the pipes are drained, so the output is complete.
    child.once("close", () => finish());

    // A program that exits without reading its input makes the write fail with EPIPE; that is fine.
    child.stdin!.on("error", () => undefined);
    child.stdin!.end(options.stdin ?? "");

    const timeout = later(options.timeoutMs, () => {
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
