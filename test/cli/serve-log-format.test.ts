import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { toolwireBin } from "../helpers/toolwire-bin.js";

const root = join(import.meta.dirname, "../..");
const bin = toolwireBin;
const children: ChildProcess[] = [];
afterEach(() => {
  for (const child of children.splice(0)) if (child.exitCode === null) child.kill("SIGKILL");
});

/** Whether util-linux `script` is here to give the server a pseudo-terminal as stdout. */
function hasScript(): boolean {
  try {
    execFileSync("script", ["--version"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

/**
 * Runs `toolwire serve --port 0 ...flags` until its "toolwire listening" log entry is written,
 * then stops it; returns everything it wrote. With `terminal`, stdout is a pseudo-terminal.
 */
async function serveOutput(flags: readonly string[], terminal: boolean, extraEnv: Record<string, string> = {}): Promise<string> {
  const args = [bin, "serve", "--port", "0", ...flags];
  const env = { ...Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith("TOOLWIRE_"))), ...extraEnv };
  const child = terminal
    ? // script gives the command a pseudo-terminal and copies what it writes to our pipe.
      spawn("script", ["-qec", [process.execPath, ...args].map((a) => `'${a}'`).join(" "), "/dev/null"], { cwd: root, env, stdio: ["pipe", "pipe", "pipe"] })
    : spawn(process.execPath, args, { cwd: root, env, stdio: ["ignore", "pipe", "pipe"] });
  children.push(child);
  let output = "";
  const logged = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no "toolwire listening" log entry in: ${output}`)), 20_000);
    const onData = (d: Buffer) => {
      output += d.toString();
      // The stdout line "toolwire listening on …" comes first, the log entry after it.
      if (output.split("toolwire listening").length > 2) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout?.on("data", onData);
    child.stderr?.on("data", onData);
    child.once("exit", (code) => reject(new Error(`exited with ${code}: ${output}`)));
  });
  await logged;
  // script ends the session (and the server in it) on SIGTERM.
  const exited = new Promise((resolve) => child.once("close", resolve));
  child.kill("SIGTERM");
  await exited;
  // Pretty lines are coloured on a terminal.
  return output.replace(/\u001b\[[\d;]*m/g, "");
}

const jsonLine = /^\{"level":30,.*"msg":"toolwire listening"\}\r?$/m;
const prettyLine = /^\[[\d:.]+\] INFO: toolwire listening\r?$/m;

describe("toolwire serve: log format", () => {
  it("writes JSON log lines when stdout is piped", async () => {
    const output = await serveOutput([], false);
    expect(output).toMatch(jsonLine);
    expect(output).not.toMatch(prettyLine);
  });

  it("writes pretty log lines when forced with --log-pretty, even piped", async () => {
    expect(await serveOutput(["--log-pretty"], false)).toMatch(prettyLine);
  });

  it("refuses --log-pretty with --log-json", async () => {
    const child = spawn(process.execPath, [bin, "serve", "--log-pretty", "--log-json"], { cwd: root, stdio: ["ignore", "pipe", "pipe"] });
    children.push(child);
    let stderr = "";
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    const code = await new Promise((resolve) => child.once("close", resolve));
    expect(code).toBe(2);
    expect(stderr).toContain("cannot be used with option '--log-json'");
  });

  describe.skipIf(!hasScript())("with a terminal as stdout", () => {
    it("writes pretty log lines by default", async () => {
      const output = await serveOutput([], true);
      expect(output).toMatch(prettyLine);
      expect(output).not.toMatch(jsonLine);
    });

    it("writes JSON log lines when forced with --log-json", async () => {
      expect(await serveOutput(["--log-json"], true)).toMatch(jsonLine);
    });

    it("writes JSON log lines when forced with TOOLWIRE_LOG_PRETTY=0", async () => {
      expect(await serveOutput([], true, { TOOLWIRE_LOG_PRETTY: "0" })).toMatch(jsonLine);
    });
  });
});
