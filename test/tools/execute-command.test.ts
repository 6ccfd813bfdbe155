import { mkdtemp, readFile, realpath, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ExecuteCommandInput, ExecuteCommandOutput } from "../../gen/tools/execute_command.js";
import { isToolResult, ToolError } from "../../src/registry/tool-result.js";
import { executeCommand } from "../../src/tools/execute-command.js";
import { callTool, runTool } from "../helpers/run-tool.js";
import { createTestContext } from "../helpers/tool-context.js";
import { inputValidator, outputValidator } from "../helpers/tool-schemas.js";

const validateInput = inputValidator(executeCommand);
const validateOutput = outputValidator(executeCommand);
const node = process.execPath;

/** Runs `node -e <script> ...args` through the tool. */
function runNode(script: string, extra: Partial<ExecuteCommandInput> = {}): Promise<ExecuteCommandOutput> {
  const { args = [], ...rest } = extra;
  return runTool(executeCommand, { command: node, args: ["-e", script, ...args], ...rest });
}

/** Whether a process is gone; a zombie counts as gone, since nothing runs any more. */
async function isGone(pid: number): Promise<boolean> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2).startsWith("Z");
  } catch {
    return true;
  }
}

async function waitUntilGone(pid: number, withinMs: number): Promise<boolean> {
  const until = performance.now() + withinMs;
  while (performance.now() < until) {
    if (await isGone(pid)) return true;
    await sleep(25);
  }
  return isGone(pid);
}

describe("execute_command", () => {
  let dir: string;

  beforeAll(async () => {
    dir = await realpath(await mkdtemp(join(tmpdir(), "toolwire-exec-")));
    await writeFile(join(dir, "file.txt"), "hello");
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("captures stdout, stderr and the exit code", async () => {
    const output = await runNode("process.stdout.write('out'); process.stderr.write('err'); process.exitCode = 3");
    expect(validateOutput(output).message).toBe("");
    expect(output).toMatchObject({
      exitCode: 3,
      signal: null,
      stdout: "out",
      stderr: "err",
      stdoutTruncated: false,
      stderrTruncated: false,
      timedOut: false,
    });
    expect(output.durationMs).toBeGreaterThan(0);
  });

  it("passes arguments literally, with no shell in between", async () => {
    const args = ["$HOME", "a b", "*", "; echo pwned", "`id`", "'quoted'"];
    const output = await runNode("console.log(JSON.stringify(process.argv.slice(1)))", { args });
    expect(JSON.parse(output.stdout)).toEqual(args);
  });

  it("feeds stdin to the program", async () => {
    const output = await runNode("process.stdin.pipe(process.stdout)", { stdin: "hello\nworld" });
    expect(output.stdout).toBe("hello\nworld");
  });

  it("gives the program an empty stdin by default", async () => {
    const output = await runNode("let n = 0; process.stdin.on('data', (c) => n += c.length).on('end', () => console.log(n))");
    expect(output.stdout.trim()).toBe("0");
  });

  it("does not hand the server's secrets to the program", async () => {
    process.env.TOOLWIRE_TEST_SECRET = "hunter2";
    try {
      const output = await runNode("console.log(JSON.stringify([process.env.TOOLWIRE_TEST_SECRET ?? null, typeof process.env.PATH]))");
      expect(JSON.parse(output.stdout)).toEqual([null, "string"]);
    } finally {
      delete process.env.TOOLWIRE_TEST_SECRET;
    }
  });

  it("runs in the given working directory", async () => {
    const output = await runNode("console.log(process.cwd()); console.log(require('fs').readFileSync('file.txt', 'utf8'))", { cwd: dir });
    expect(output.stdout).toBe(`${dir}\nhello\n`);
  });

  it("refuses a working directory that does not exist or is a file", async () => {
    await expect(runNode("", { cwd: join(dir, "missing") })).rejects.toThrow(new ToolError(`working directory ${join(dir, "missing")} does not exist`));
    await expect(runNode("", { cwd: join(dir, "file.txt") })).rejects.toThrow(/is not a directory/);
  });

  it.each(["bash", "/bin/sh", "SUDO", "rm", "/usr/sbin/mkfs.ext4", "env", "xargs", "setsid", "killall", "bash.exe"])(
    "refuses a denied program: %s",
    async (command) => {
      const call = runTool(executeCommand, { command, args: ["-c", "true"] });
      await expect(call).rejects.toBeInstanceOf(ToolError);
      const name = command.split("/").pop()!.toLowerCase().replace(/\.exe$/, "");
      await expect(call).rejects.toThrow(`"${name}" is not allowed`);
    },
  );

  it("reports a program that does not exist", async () => {
    await expect(runTool(executeCommand, { command: "toolwire-no-such-program" })).rejects.toThrow(
      new ToolError("program not found: toolwire-no-such-program"),
    );
  });

  it("reports a file that is not executable", async () => {
    await expect(runTool(executeCommand, { command: join(dir, "file.txt") })).rejects.toThrow(/permission denied/);
  });

  it("caps each stream at maxOutputBytes while draining the rest", async () => {
    // 2 MB is far more than a pipe buffers: the program would hang if we stopped reading.
    const output = await runNode("process.stdout.write('x'.repeat(2 * 1024 * 1024)); process.stderr.write('small')", {
      maxOutputBytes: 1024,
    });
    expect(output).toMatchObject({ exitCode: 0, stdoutTruncated: true, stderrTruncated: false, stderr: "small", timedOut: false });
    expect(output.stdout).toBe("x".repeat(1024));
  });

  it("does not flag output of exactly maxOutputBytes as truncated", async () => {
    const output = await runNode("process.stdout.write('y'.repeat(1024))", { maxOutputBytes: 1024 });
    expect(output.stdout).toHaveLength(1024);
    expect(output.stdoutTruncated).toBe(false);
  });

  it("kills the whole process group on timeout and still returns the output", async () => {
    // The child starts a grandchild, reports its pid, and both would run forever.
    const script = [
      "const { spawn } = require('child_process');",
      "const g = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });",
      "console.log(g.pid);",
      "setInterval(() => {}, 1000);",
    ].join("\n");
    const started = performance.now();
    const result = await callTool(executeCommand, { command: node, args: ["-e", script], timeoutMs: 1500 });
    const elapsed = performance.now() - started;

    if (!isToolResult(result)) throw new Error("expected an error result");
    expect(result.isError).toBe(true);
    const output = result.structuredContent!;
    expect(validateOutput(output).message).toBe("");
    expect(output).toMatchObject({ timedOut: true, exitCode: null, signal: "SIGTERM" });
    expect(result.content?.[0]).toMatchObject({ type: "text", text: expect.stringContaining("timed out after 1500 ms") });
    expect(elapsed).toBeGreaterThanOrEqual(1500);
    expect(elapsed).toBeLessThan(3000);

    const grandchild = Number(output.stdout.trim());
    expect(grandchild).toBeGreaterThan(0);
    expect(await waitUntilGone(grandchild, 1000)).toBe(true);
  });

  it("escalates to SIGKILL when the program ignores SIGTERM", async () => {
    const result = await callTool(executeCommand, {
      command: node,
      args: ["-e", "process.on('SIGTERM', () => {}); console.log('ready'); setInterval(() => {}, 1000)"],
      timeoutMs: 500,
    });
    if (!isToolResult(result)) throw new Error("expected an error result");
    expect(result.structuredContent).toMatchObject({ timedOut: true, signal: "SIGKILL", stdout: "ready\n" });
    expect(result.structuredContent!.durationMs).toBeLessThan(2000);
  });

  it("kills the process group when the call is aborted", async () => {
    const ctx = createTestContext();
    const script = "const g = require('child_process').spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' }); require('fs').writeFileSync(process.argv[1], String(g.pid)); setInterval(() => {}, 1000)";
    const pidFile = join(dir, "grandchild.pid");
    const call = runTool(executeCommand, { command: node, args: ["-e", script, pidFile], timeoutMs: 30_000 }, ctx);
    let grandchild = 0;
    while (grandchild === 0) {
      await sleep(25);
      grandchild = Number(await readFile(pidFile, "utf8").catch(() => "0"));
    }
    const reason = new Error("client went away");
    const abortedAt = performance.now();
    ctx.controller.abort(reason);
    await expect(call).rejects.toBe(reason);
    expect(performance.now() - abortedAt).toBeLessThan(1500);
    expect(await waitUntilGone(grandchild, 1000)).toBe(true);
  });

  it("cleans up background processes the program leaves behind", async () => {
    const script = "const g = require('child_process').spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' }); g.unref(); console.log(g.pid)";
    const output = await runNode(script);
    expect(output).toMatchObject({ exitCode: 0, timedOut: false });
    expect(await waitUntilGone(Number(output.stdout.trim()), 1000)).toBe(true);
  });

  describe("input schema", () => {
    it("fills in the defaults", () => {
      const result = validateInput({ command: "ls" });
      expect(result.message).toBe("");
      expect(result.value).toEqual({ command: "ls", args: [], timeoutMs: 10_000, maxOutputBytes: 65_536 });
    });

    it("rejects limits out of range and unknown properties", () => {
      expect(validateInput({ command: "ls", timeoutMs: 99 }).message).toBe("/timeoutMs: must be >= 100");
      expect(validateInput({ command: "ls", timeoutMs: 60_001 }).message).toBe("/timeoutMs: must be <= 60000");
      expect(validateInput({ command: "ls", maxOutputBytes: 1023 }).message).toBe("/maxOutputBytes: must be >= 1024");
      expect(validateInput({ command: "ls", maxOutputBytes: 1_048_577 }).message).toBe("/maxOutputBytes: must be <= 1048576");
      expect(validateInput({ command: "" }).message).toMatch(/^\/command: must NOT have fewer than 1 characters/);
      expect(validateInput({ command: "ls", args: "-la" }).message).toBe("/args: must be array");
      expect(validateInput({ command: "ls", shell: true }).message).toBe("/shell: is not allowed (unknown property)");
      expect(validateInput({}).message).toBe("/command: is required");
    });
  });
});
