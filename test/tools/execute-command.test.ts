import { chmod, mkdir, mkdtemp, readFile, realpath, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { basename, delimiter, join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { ExecuteCommandInput, ExecuteCommandOutput } from "../../gen/tools/execute_command.js";
import { isToolResult, ToolError } from "../../src/registry/tool-result.js";
import { executeCommand, isDynamicLoader } from "../../src/tools/execute-command.js";
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

/** Polls until `pid` is gone; `withinMs` is generous, it waits for the kill and does not time it. */
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

  // Hygiene, not protection: the program runs as the server's user and could read the server's
  // environment from /proc/<ppid>/environ. The manifest says so.
  it("passes only a reduced environment to the program", async () => {
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

    const grandchild = Number(output.stdout.trim());
    expect(grandchild).toBeGreaterThan(0);
    expect(await waitUntilGone(grandchild, 10_000)).toBe(true);
  });

  it("escalates to SIGKILL when the program ignores SIGTERM", async () => {
    const result = await callTool(executeCommand, {
      command: node,
      args: ["-e", "process.on('SIGTERM', () => {}); console.log('ready'); setInterval(() => {}, 1000)"],
      timeoutMs: 500,
    });
    if (!isToolResult(result)) throw new Error("expected an error result");
    expect(result.structuredContent).toMatchObject({ timedOut: true, signal: "SIGKILL", stdout: "ready\n" });
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
    ctx.controller.abort(reason);
    await expect(call).rejects.toBe(reason);
    expect(await waitUntilGone(grandchild, 10_000)).toBe(true);
  });

  it("cleans up background processes the program leaves behind", async () => {
    const script = "const g = require('child_process').spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' }); g.unref(); console.log(g.pid)";
    const output = await runNode(script);
    expect(output).toMatchObject({ exitCode: 0, timedOut: false });
    expect(await waitUntilGone(Number(output.stdout.trim()), 10_000)).toBe(true);
  });

  describe("the deny-list checks the file that really runs", () => {
    let links: string;
    let realShell: string;
    const savedPath = process.env.PATH;

    beforeAll(async () => {
      links = join(dir, "links");
      await mkdir(links);
      realShell = await realpath("/bin/sh");
      // A shell under an innocent name.
      await symlink("/bin/sh", join(links, "innocent"));
      // An allowed program under another name.
      await symlink(node, join(links, "my-node"));
    });
    afterEach(() => {
      process.env.PATH = savedPath;
    });

    it("refuses a symbolic link to a shell, by path", async () => {
      const call = runTool(executeCommand, { command: join(links, "innocent"), args: ["-c", "id"] });
      await expect(call).rejects.toBeInstanceOf(ToolError);
      await expect(call).rejects.toThrow(`"innocent" is not allowed: it is ${realShell} ("${basename(realShell)}")`);
    });

    it("refuses a symbolic link to a shell, by a path relative to cwd", async () => {
      await expect(runTool(executeCommand, { command: "./innocent", cwd: links, args: ["-c", "id"] })).rejects.toThrow(
        /"innocent" is not allowed: it is/,
      );
    });

    it("refuses a symbolic link to a shell found on PATH", async () => {
      process.env.PATH = `${links}${delimiter}${savedPath ?? ""}`;
      await expect(runTool(executeCommand, { command: "innocent", args: ["-c", "id"] })).rejects.toThrow(/"innocent" is not allowed: it is/);
    });

    it("looks PATH up like spawn: a non-executable match is skipped, the first executable one runs", async () => {
      const first = join(dir, "path-first");
      const second = join(dir, "path-second");
      await mkdir(first);
      await mkdir(second);
      // "lookalike" is a plain file in the first directory and a shell in the second: spawn would
      // skip the plain file and run the shell, so the check must look at the shell.
      await writeFile(join(first, "lookalike"), "not a program");
      await symlink("/bin/sh", join(second, "lookalike"));
      // "runner" is node in the first directory and a shell in the second: node runs.
      await symlink(node, join(first, "runner"));
      await symlink("/bin/sh", join(second, "runner"));
      process.env.PATH = [first, second, savedPath ?? ""].join(delimiter);

      await expect(runTool(executeCommand, { command: "lookalike", args: ["-c", "id"] })).rejects.toThrow(/"lookalike" is not allowed/);
      const output = await runTool(executeCommand, { command: "runner", args: ["-e", "console.log('node ran')"] });
      expect(output.stdout).toBe("node ran\n");
    });

    it("reports a name found on PATH only as a non-executable file", async () => {
      const only = join(dir, "path-noexec");
      await mkdir(only);
      await writeFile(join(only, "toolwire-noexec"), "not a program");
      process.env.PATH = only;
      await expect(runTool(executeCommand, { command: "toolwire-noexec" })).rejects.toThrow(
        new ToolError("permission denied: toolwire-noexec is not executable"),
      );
    });

    it("runs an allowed program through a link, under the name it was given", async () => {
      const command = join(links, "my-node");
      const output = await runTool(executeCommand, { command, args: ["-e", "console.log(process.argv0)"] });
      expect(output).toMatchObject({ exitCode: 0, stdout: `${command}\n` });
    });

    it.each(["ld.so", "ld-linux-x86-64.so.2", "/lib64/ld-linux-x86-64.so.2", "/lib/ld-linux-aarch64.so.1", "ld-musl-x86_64.so.1", "ld-2.31.so"])(
      "refuses a dynamic loader by name: %s",
      async (command) => {
        await expect(runTool(executeCommand, { command, args: ["/bin/sh", "-c", "id"] })).rejects.toThrow(
          `"${basename(command)}" is not allowed`,
        );
      },
    );

    it("does not take ordinary names for loaders", () => {
      for (const name of ["ld", "ldd", "ldconfig", "libc.so.6", "old.so", "lds.so"]) expect(isDynamicLoader(name), name).toBe(false);
    });

    it("refuses this system's dynamic loader by path and through a link", async (ctx) => {
      // The loader is mapped into every dynamically linked process, node included.
      const maps = await readFile("/proc/self/maps", "utf8").catch(() => "");
      const loader = maps
        .split("\n")
        .map((line) => line.slice(line.indexOf("/")))
        .find((path) => path.startsWith("/") && isDynamicLoader(basename(path)));
      if (loader === undefined) ctx.skip(); // A static node (or no /proc): no loader to try.
      await symlink(loader!, join(links, "innocent-loader"));
      for (const command of [loader!, join(links, "innocent-loader")]) {
        await expect(runTool(executeCommand, { command, args: ["/bin/sh", "-c", "id"] }), command).rejects.toThrow(/is not allowed/);
      }
    });

    it.each([
      ["ksh93", "ksh"],
      ["bash-static", "bash"],
      ["zsh-5.9", "zsh"],
      ["busybox", "busybox"],
      ["busybox-x86_64", "busybox-x86_64"],
      ["toybox", "toybox"],
    ])("refuses a versioned or multi-call name: %s", async (command, denied) => {
      await expect(runTool(executeCommand, { command, args: ["sh", "-c", "id"] })).rejects.toThrow(`"${denied}" is not allowed`);
    });

    it("runs a multi-call binary reached through a link under the link's (checked) name", async () => {
      // Stands in for busybox: on Alpine /bin/ls is a link to it, and busybox runs the applet
      // that argv[0] names, which is the name the caller gave and which passed the check.
      const fake = join(links, "busybox");
      await writeFile(fake, `#!${node}\nconsole.log(require("path").basename(process.argv[1]) + " " + process.argv.slice(2).join(" "))\n`);
      await chmod(fake, 0o755);
      await symlink(fake, join(links, "applet"));
      await symlink(fake, join(links, "busybox-renamed"));

      const output = await runTool(executeCommand, { command: join(links, "applet"), args: ["x"] });
      expect(output).toMatchObject({ exitCode: 0, stdout: "busybox x\n" });
      await expect(runTool(executeCommand, { command: fake, args: ["sh"] })).rejects.toThrow(`"busybox" is not allowed`);
      await expect(runTool(executeCommand, { command: join(links, "busybox-renamed"), args: ["sh"] })).rejects.toThrow(
        `"busybox-renamed" is not allowed`,
      );
    });

    it("is not a sandbox: an allowed interpreter can still start a shell", async () => {
      // Documented, not a bug: the boundary is the restricted level plus grants, not this list.
      const output = await runNode("console.log(require('child_process').execFileSync('/bin/sh', ['-c', 'echo from a shell'], { encoding: 'utf8' }).trim())");
      expect(output.stdout).toBe("from a shell\n");
    });
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
