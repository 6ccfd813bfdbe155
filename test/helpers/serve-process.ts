import { spawn, type ChildProcess } from "node:child_process";
import { join } from "node:path";
import { captureOutput, environment, killChild, waitForOutput, type CapturedOutput } from "./processes.js";
import { toolwireBin } from "./toolwire-bin.js";

/** The repository root. */
const root = join(import.meta.dirname, "../..");

/** A `toolwire serve` child process, started through the package's bin entry. */
export interface ServeChild extends CapturedOutput {
  readonly child: ChildProcess;
}

/** A `toolwire serve` child process that is listening. */
export interface ServeProcess extends ServeChild {
  /** Its base URL, from its "toolwire listening on URL" line. */
  readonly url: string;
}

/**
 * Spawns `toolwire serve --log-level warn ...args` with the test's environment less TOOLWIRE_*
 * plus `env`, and returns at once.
 */
export function startServe(args: readonly string[], env: Record<string, string> = {}): ServeChild {
  const child = spawn(process.execPath, [toolwireBin, "serve", "--log-level", "warn", ...args], {
    cwd: root,
    env: environment(env),
    stdio: ["ignore", "pipe", "pipe"],
  });
  return { child, ...captureOutput(child) };
}

/** Waits for a serve process's "toolwire listening on URL" line and returns the URL; kills it when none comes. */
export async function waitForListening(serve: ServeChild, timeoutMs = 30_000): Promise<string> {
  try {
    const [, url = ""] = await waitForOutput(serve.child, serve.stdout, /toolwire listening on (\S+)/, timeoutMs);
    return url;
  } catch (err) {
    await killChild(serve.child, "SIGKILL");
    throw err;
  }
}

/** Spawns `toolwire serve` on a random loopback port (unless `args` name one) and waits until it listens. */
export async function spawnServe(args: readonly string[], env: Record<string, string> = {}): Promise<ServeProcess> {
  const port = args.includes("--port") ? [] : ["--port", "0"];
  const serve = startServe([...port, ...args], env);
  return { ...serve, url: await waitForListening(serve) };
}
