import { spawn, type ChildProcess } from "node:child_process";
import { join } from "node:path";
import { pino } from "pino";
import { createToolwireApp, type ToolwireAppConfig } from "../../src/app/index.js";
import type { AnyToolDefinition } from "../../src/registry/define-tool.js";
import type { ToolwireServer } from "../../src/server/index.js";
import { environment } from "../helpers/processes.js";
import { toolwireArgs } from "../helpers/toolwire-bin.js";

/** The repository root. */
export const repoRoot = join(import.meta.dirname, "../..");

/** What a finished CLI process left behind. */
export interface CliResult {
  /** Exit code (null when a signal ended it). */
  readonly code: number | null;
  /** Everything it wrote to stdout. */
  readonly stdout: string;
  /** Everything it wrote to stderr. */
  readonly stderr: string;
}

/** Options of {@link runCli} and {@link spawnCli}. */
export interface CliOptions {
  /** Working directory (default the repository root). */
  readonly cwd?: string;
  /** Environment added to the test's own (without its TOOLWIRE_* variables). */
  readonly env?: Record<string, string>;
  /** Written to the process's stdin, which is then closed (default: stdin closed at once). */
  readonly input?: string;
  /** The project whose bin entry runs (default the repository root). */
  readonly root?: string;
}

/** The environment a CLI process gets: the test's, minus anything TOOLWIRE_* that could steer it. */
function cliEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return environment({ NO_COLOR: "1", ...extra });
}

/** A running `toolwire` process started through the package's bin entry. */
export interface CliProcess {
  /** The process, for signals. */
  readonly child: ChildProcess;
  /** Everything it printed so far. */
  output(): { stdout: string; stderr: string };
  /** Resolves when it exited. */
  readonly exited: Promise<CliResult>;
}

/**
 * Starts the `toolwire` command as a real process: the built one (`node dist/src/cli/main.js`), or
 * for a copy of the project (`options.root`) the copy's sources.
 */
export function spawnCli(args: readonly string[], options: CliOptions = {}): CliProcess {
  const root = options.root ?? repoRoot;
  const child = spawn(process.execPath, [...toolwireArgs(root), ...args], {
    cwd: options.cwd ?? root,
    env: cliEnv(options.env),
    stdio: ["pipe", "pipe", "pipe"],
  });
  running.add(child);
  let stdout = "";
  let stderr = "";
  child.stdout?.on("data", (d: Buffer) => (stdout += d.toString()));
  child.stderr?.on("data", (d: Buffer) => (stderr += d.toString()));
  child.stdin?.end(options.input ?? "");
  const exited = new Promise<CliResult>((resolve) => {
    child.once("close", (code) => {
      running.delete(child);
      resolve({ code, stdout, stderr });
    });
  });
  return { child, output: () => ({ stdout, stderr }), exited };
}

/** Runs `toolwire ...args` to the end. */
export function runCli(args: readonly string[], options: CliOptions = {}): Promise<CliResult> {
  return spawnCli(args, options).exited;
}

const running = new Set<ChildProcess>();

/** Kills (SIGKILL, by pid) every CLI process a test left running; for afterEach. */
export function killLeftoverProcesses(): void {
  for (const child of running) if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  running.clear();
}

/** A composed server (what `toolwire serve` runs) on a random loopback port. */
export interface CliTestServer {
  /** The server. */
  readonly server: ToolwireServer;
  /** Its base URL, http://127.0.0.1:<port>. */
  readonly url: string;
  /** Stops it at once (no grace period). */
  close(): Promise<void>;
}

/**
 * Starts the server `toolwire serve` runs — built-in tools, monitoring, MCP — with extra tools
 * registered beside the built-in ones, on 127.0.0.1 and a random port.
 */
export async function startCliServer(
  options: { readonly tools?: readonly AnyToolDefinition[]; readonly port?: number; readonly config?: ToolwireAppConfig } = {},
): Promise<CliTestServer> {
  const { tools = [], port = 0, config = {} } = options;
  const server = await createToolwireApp({ ...config, server: { host: "127.0.0.1", port, ...config.server } }, { tools, logger: pino({ level: "silent" }) });
  const { url } = await server.listen();
  return { server, url, close: () => server.close(0) };
}

/** Whether util-linux `script` is here to give a process a real terminal (a pty). */
export async function hasScript(): Promise<boolean> {
  const result = await new Promise<number | null>((resolve) => {
    const child = spawn("script", ["--version"], { stdio: "ignore" });
    child.once("error", () => resolve(null));
    child.once("close", resolve);
  });
  return result === 0;
}

/**
 * Runs `toolwire ...args` on a real terminal of `columns` columns (a pty from `script`) and
 * returns everything the terminal showed, stdout and stderr together, control sequences included.
 */
export async function runCliOnTerminal(args: readonly string[], columns: number, options: CliOptions = {}): Promise<CliResult> {
  const root = options.root ?? repoRoot;
  const quote = (s: string) => `'${s.replaceAll("'", "'\\''")}'`;
  const command = `stty cols ${columns} rows 40; exec ${[process.execPath, ...toolwireArgs(), ...args].map(quote).join(" ")}`;
  const child = spawn("script", ["-qec", command, "/dev/null"], { cwd: options.cwd ?? root, env: cliEnv(options.env), stdio: ["pipe", "pipe", "pipe"] });
  running.add(child);
  let stdout = "";
  let stderr = "";
  child.stdout?.on("data", (d: Buffer) => (stdout += d.toString()));
  child.stderr?.on("data", (d: Buffer) => (stderr += d.toString()));
  child.stdin?.end();
  return new Promise<CliResult>((resolve) => {
    child.once("close", (code) => {
      running.delete(child);
      resolve({ code, stdout, stderr });
    });
  });
}
