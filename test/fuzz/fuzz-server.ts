import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { hashApiKey } from "../../src/security/index.js";
import { toolwireBin } from "../helpers/toolwire-bin.js";

const root = join(import.meta.dirname, "../..");

/** API keys the fuzzer holds: an authenticated member and a restricted caller with no grant. */
export const fuzzKeys = {
  member: "tw_fuzz-member-key-0123456789abcdef",
  restricted: "tw_fuzz-restricted-key-0123456789ab",
} as const;

/** A `toolwire serve` child process under fuzzing. */
export interface FuzzServer {
  /** Base URL, http://127.0.0.1:<port>. */
  readonly url: string;
  /** Port it listens on. */
  readonly port: number;
  /** Its process id. */
  readonly pid: number;
  /** Whether it has exited (a crash, as the fuzzer never stops it before the end). */
  exited(): boolean;
  /** What made it exit, with the end of its stderr. */
  exitReason(): string;
  /** Everything it wrote to stderr so far. */
  stderr(): string;
  /** Log lines at level error or fatal it printed so far (pino JSON on stdout). */
  errorLogs(): readonly string[];
  /** Resident set size in bytes, from /proc/<pid>/status (0 once it exited). */
  rss(): number;
  /** Whether it is exiting or gone: the exit was seen, or Node printed its fatal-error banner. */
  dying(): boolean;
  /** CPU time it used so far, in seconds (user + system). */
  cpuSeconds(): number;
  /** Kills it (SIGKILL) and removes its config directory. */
  stop(): Promise<void>;
}

/**
 * Starts the real CLI, `toolwire serve`, on a random loopback port: API keys (so auth paths are
 * taken), the restricted execute_command tool that no fuzz key is granted, monitoring on.
 */
export async function startFuzzServer(): Promise<FuzzServer> {
  const dir = mkdtempSync(join(tmpdir(), "toolwire-fuzz-"));
  const config = join(dir, "toolwire.json");
  writeFileSync(
    config,
    JSON.stringify({
      server: { port: 0 },
      auth: {
        apiKeys: [
          { id: "fuzz-member", sha256: hashApiKey(fuzzKeys.member), level: "authenticated" },
          // Restricted level but no grant: execute_command must answer permission_denied, never run.
          { id: "fuzz-restricted", sha256: hashApiKey(fuzzKeys.restricted), level: "restricted" },
        ],
      },
      monitoring: { level: "authenticated" },
      limits: { headersTimeoutMs: 2000 },
      logging: { level: "warn" },
    }),
  );
  const env = Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith("TOOLWIRE_")));
  const child = spawn(process.execPath, [toolwireBin, "serve", "--config", config], {
    cwd: root,
    env: { ...env, NO_COLOR: "1" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  const errorLogs: string[] = [];
  let pending = "";
  child.stdout.on("data", (d: Buffer) => {
    const text = d.toString();
    if (stdout.length < 1_000_000) stdout += text;
    pending += text;
    const lines = pending.split("\n");
    pending = lines.pop() ?? "";
    for (const line of lines) if (/"level":(50|60)/.test(line) && errorLogs.length < 100) errorLogs.push(line);
  });
  child.stderr.on("data", (d: Buffer) => {
    if (stderr.length < 1_000_000) stderr += d.toString();
  });
  let exit: string | undefined;
  child.once("exit", (code, signal) => (exit = `exited with code ${code} signal ${signal}`));
  const url = await listeningUrl(child, () => ({ stdout, stderr }));
  const pid = child.pid as number;
  return {
    url,
    port: Number(new URL(url).port),
    pid,
    exited: () => exit !== undefined,
    exitReason: () => `${exit ?? "running"}; stderr: ${stderr.slice(-2000)}`,
    stderr: () => stderr,
    errorLogs: () => errorLogs,
    rss: () => rssOf(pid),
    dying: () => exit !== undefined || /^Node\.js v\d+/m.test(stderr),
    cpuSeconds: () => cpuOf(pid),
    async stop() {
      if (exit === undefined) {
        const closed = new Promise((resolve) => child.once("close", resolve));
        child.kill("SIGKILL");
        await closed;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function listeningUrl(child: ChildProcess, output: () => { stdout: string; stderr: string }): Promise<string> {
  return new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`toolwire serve did not start: ${JSON.stringify(output())}`)), 30_000);
    const onData = () => {
      const match = /toolwire listening on (\S+)/.exec(output().stdout);
      if (match?.[1] === undefined) return;
      clearTimeout(timer);
      child.stdout?.off("data", onData);
      resolve(match[1]);
    };
    child.stdout?.on("data", onData);
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`toolwire serve exited with ${code} before listening: ${JSON.stringify(output())}`));
    });
  });
}

function rssOf(pid: number): number {
  try {
    const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return match?.[1] === undefined ? 0 : Number(match[1]) * 1024;
  } catch {
    return 0;
  }
}

function cpuOf(pid: number): number {
  try {
    // Fields after the command name (which may hold spaces): utime and stime are the 12th and 13th.
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return 0;
  }
}
