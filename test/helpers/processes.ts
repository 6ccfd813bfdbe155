import type { ChildProcess } from "node:child_process";

/** The test runner's environment without TOOLWIRE_* settings, which could steer a child, plus `extra`. */
export function environment(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith("TOOLWIRE_")));
  return { ...env, ...extra };
}

/** What a child printed so far. */
export interface CapturedOutput {
  /** stdout and stderr together, in the order they arrived. */
  output(): string;
  stdout(): string;
  stderr(): string;
}

/** Starts collecting everything `child` prints on its piped stdout and stderr. */
export function captureOutput(child: ChildProcess): CapturedOutput {
  let all = "";
  let stdout = "";
  let stderr = "";
  child.stdout?.on("data", (d: Buffer) => {
    stdout += d.toString();
    all += d.toString();
  });
  child.stderr?.on("data", (d: Buffer) => {
    stderr += d.toString();
    all += d.toString();
  });
  return { output: () => all, stdout: () => stdout, stderr: () => stderr };
}

/**
 * Resolves with the first match of `pattern` in `text()` (re-read whenever the child prints);
 * rejects, with what it printed, when the child exits first or `timeoutMs` passes. Call it after
 * the listeners that collect `text()` are in place.
 */
export function waitForOutput(child: ChildProcess, text: () => string, pattern: RegExp, timeoutMs = 30_000): Promise<RegExpExecArray> {
  return new Promise((resolve, reject) => {
    const check = () => {
      const match = pattern.exec(text());
      if (match === null) return;
      cleanup();
      resolve(match);
    };
    const onExit = (code: number | null, signal: NodeJS.Signals | null) => {
      cleanup();
      reject(new Error(`exited (code ${code}, signal ${signal}) before printing ${pattern}: ${text()}`));
    };
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error(`no ${pattern} within ${timeoutMs} ms in: ${text()}`));
    }, timeoutMs);
    const cleanup = () => {
      clearTimeout(timer);
      child.stdout?.off("data", check);
      child.stderr?.off("data", check);
      child.off("exit", onExit);
    };
    child.stdout?.on("data", check);
    child.stderr?.on("data", check);
    child.once("exit", onExit);
    check();
  });
}

/** Sends `signal` to a child by its pid and waits for it to exit; nothing when it already has. */
export async function killChild(child: ChildProcess, signal: NodeJS.Signals): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  child.kill(signal);
  await exited;
}
