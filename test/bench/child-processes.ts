import { fork, type ChildProcess } from "node:child_process";

const tsxLoader = import.meta.resolve("tsx");
const running = new Set<ChildProcess>();

/**
 * Forks a TypeScript entry point (run in-process by the tsx loader, so the pid is the process doing
 * the work) with an IPC channel; its stdout goes to our stderr so `--json` output stays clean.
 */
export function forkTsx(entry: URL, args: readonly string[] = []): ChildProcess {
  const child = fork(entry, [...args], {
    execArgv: ["--import", tsxLoader],
    stdio: ["ignore", 2, 2, "ipc"],
  });
  running.add(child);
  child.once("exit", () => running.delete(child));
  return child;
}

/** Resolves with the child's next message that `accept` recognises; rejects if the child exits first or time runs out. */
export function nextMessage<T>(
  child: ChildProcess,
  accept: (message: unknown) => message is T,
  timeoutMs: number,
  what: string,
): Promise<T> {
  return new Promise((resolve, reject) => {
    const cleanup = () => {
      clearTimeout(timer);
      child.off("message", onMessage);
      child.off("exit", onExit);
    };
    const onMessage = (message: unknown) => {
      if (!accept(message)) return;
      cleanup();
      resolve(message);
    };
    const onExit = (code: number | null, signal: NodeJS.Signals | null) => {
      cleanup();
      reject(new Error(`child ${child.pid} exited (code ${code}, signal ${signal}) while waiting for ${what}`));
    };
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what} from child ${child.pid}`));
    }, timeoutMs);
    child.on("message", onMessage);
    child.once("exit", onExit);
  });
}

function signalPid(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch {
    // Already gone.
  }
}

/**
 * Stops a child by its pid: asks it to stop over IPC, then SIGTERM, then SIGKILL, waiting for it to
 * exit in between.
 */
export async function stopChild(child: ChildProcess, graceMs = 3_000): Promise<void> {
  const pid = child.pid;
  if (pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const within = (ms: number) =>
    Promise.race([exited.then(() => true), new Promise<boolean>((resolve) => setTimeout(() => resolve(false), ms).unref())]);
  if (child.connected) child.send({ type: "stop" }, () => {});
  if (await within(graceMs)) return;
  signalPid(pid, "SIGTERM");
  if (await within(graceMs)) return;
  signalPid(pid, "SIGKILL");
  await within(graceMs);
}

/** Stops every child this process forked that is still running. */
export async function stopAllChildren(): Promise<void> {
  await Promise.all([...running].map((child) => stopChild(child, 1_000)));
}

/** Synchronously SIGKILLs every still-running child by pid (last resort on process exit). */
export function killAllChildrenNow(): void {
  for (const child of running) {
    if (child.pid !== undefined) signalPid(child.pid, "SIGKILL");
  }
}
