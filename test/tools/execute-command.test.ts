import { accessSync, constants } from "node:fs";
import { chmod, mkdir, mkdtemp, readdir, readFile, realpath, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { basename, delimiter, join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { ExecuteCommandInput, ExecuteCommandOutput } from "../../gen/tools/execute_command.js";
import { isToolResult, ToolError } from "../../src/registry/tool-result.js";
import { pino } from "pino";
import { createToolwireApp } from "../../src/app/index.js";
import { createAuthenticator } from "../../src/security/index.js";
import { createExecuteCommand, executeCommand, isDynamicLoader } from "../../src/tools/execute-command.js";
import { probeCgroup, probePidNamespace, type Containment } from "../../src/tools/process-containment.js";
import { keyCaller } from "../helpers/security.js";
import { startServer } from "../helpers/server.js";
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

/** The file a bare program name runs, from PATH. */
function execPathOf(name: string): string {
  for (const entry of (process.env.PATH ?? "").split(delimiter)) {
    const candidate = join(entry, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // Try the next entry.
    }
  }
  throw new Error(`${name} is not on PATH`);
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

let markers = 0;
const usedMarkers: string[] = [];

/**
 * A word unique to this test run, put into a descendant's command line so the test can find it
 * in /proc: inside a PID namespace the pids a program sees are not the host's.
 */
function marker(): string {
  const word = `toolwire-exec-${process.pid}-${++markers}`;
  usedMarkers.push(word);
  return word;
}

/** A `sleep` duration no other process uses, found the same way (and recorded for cleanup). */
function uniqueSleep(): string {
  const duration = `${1000 + (process.pid % 9000)}.${++markers}`;
  usedMarkers.push(duration);
  return duration;
}

/** Live (not zombie) processes with `word` as one of their arguments. */
async function running(word: string): Promise<number[]> {
  const pids: number[] = [];
  for (const entry of await readdir("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    const cmdline = await readFile(`/proc/${entry}/cmdline`, "utf8").catch(() => "");
    if (cmdline.split("\0").includes(word) && !(await isGone(Number(entry)))) pids.push(Number(entry));
  }
  return pids;
}

/** Whether every process carrying `word` is gone within `withinMs`. */
async function noneRunningWithin(word: string, withinMs: number): Promise<boolean> {
  const until = performance.now() + withinMs;
  while (performance.now() < until) {
    if ((await running(word)).length === 0) return true;
    await sleep(50);
  }
  return (await running(word)).length === 0;
}

/** A node program that starts a grandchild carrying `word` which would run forever. */
function grandchildScript(word: string, options: { setsid?: boolean; thenExit?: boolean } = {}): string {
  return [
    "const { spawn } = require('child_process');",
    // detached: the grandchild calls setsid() and leaves the program's process group.
    `const g = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)', ${JSON.stringify(word)}], { stdio: ${options.thenExit ? "'ignore'" : "'inherit'"}, detached: ${options.setsid === true} });`,
    options.thenExit ? "g.unref(); console.log('started');" : "console.log('started'); setInterval(() => {}, 1000);",
  ].join("\n");
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
  afterEach(async () => {
    // A test that failed may leave a descendant behind: kill it by pid.
    for (const word of usedMarkers.splice(0)) {
      for (const pid of await running(word)) process.kill(pid, "SIGKILL");
    }
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

  it.each([
    "bash", "/bin/sh", "SUDO", "rm", "/usr/sbin/mkfs.ext4", "env", "xargs", "setsid", "killall", "bash.exe",
    // Wrappers that run another program, and the kill family, that the list once missed.
    "choom", "ssh-agent", "uclampset", "dbus-run-session", "valgrind", "gdb", "skill", "snice",
  ])(
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
    // The child starts a grandchild, and both would run forever.
    const word = marker();
    const started = performance.now();
    // Long enough for the program to start under load (behind the containment launcher).
    const result = await callTool(executeCommand, { command: node, args: ["-e", grandchildScript(word)], timeoutMs: 3000 });
    const elapsed = performance.now() - started;

    if (!isToolResult(result)) throw new Error("expected an error result");
    expect(result.isError).toBe(true);
    const output = result.structuredContent!;
    expect(validateOutput(output).message).toBe("");
    expect(output).toMatchObject({ timedOut: true, exitCode: null, signal: "SIGTERM", stdout: "started\n" });
    expect(result.content?.[0]).toMatchObject({ type: "text", text: expect.stringContaining("timed out after 3000 ms") });
    expect(elapsed).toBeGreaterThanOrEqual(3000);
    expect(await noneRunningWithin(word, 10_000)).toBe(true);
  });

  it("escalates to SIGKILL when the program ignores SIGTERM", async () => {
    const result = await callTool(executeCommand, {
      command: node,
      args: ["-e", "process.on('SIGTERM', () => {}); console.log('ready'); setInterval(() => {}, 1000)"],
      // Long enough for the program to start under load (behind the containment launcher).
      timeoutMs: 3000,
    });
    if (!isToolResult(result)) throw new Error("expected an error result");
    expect(result.structuredContent).toMatchObject({ timedOut: true, signal: "SIGKILL", stdout: "ready\n" });
  });

  it("kills the process group when the call is aborted", async () => {
    const ctx = createTestContext();
    const word = marker();
    const call = runTool(executeCommand, { command: node, args: ["-e", grandchildScript(word)], timeoutMs: 30_000 }, ctx);
    while ((await running(word)).length === 0) await sleep(25);
    const reason = new Error("client went away");
    ctx.controller.abort(reason);
    await expect(call).rejects.toBe(reason);
    expect(await noneRunningWithin(word, 10_000)).toBe(true);
  });

  it("cleans up background processes the program leaves behind", async () => {
    const word = marker();
    const output = await runNode(grandchildScript(word, { thenExit: true }));
    expect(output).toMatchObject({ exitCode: 0, timedOut: false, stdout: "started\n" });
    expect(await noneRunningWithin(word, 10_000)).toBe(true);
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

  // Issue 14: a descendant that calls setsid() leaves the process group, so a group kill misses
  // it; and if it keeps stdout open, waiting for the pipes used to wait out the whole timeout.
  describe("descendants that leave the process group", () => {
    /** perl forks; the child starts its own session and becomes `sleep <seconds>`, keeping stdout open. */
    const escapee = (seconds: string) => ["-e", `use POSIX; if (fork() == 0) { POSIX::setsid(); exec "sleep", "${seconds}" } print "parent\n"`];

    it("are killed with the program under the host's containment, and the call ends when it exits", async () => {
      const seconds = uniqueSleep();
      const output = await runTool(executeCommand, { command: "perl", args: escapee(seconds), timeoutMs: 20_000 });
      expect(validateOutput(output).message).toBe("");
      expect(output).toMatchObject({ exitCode: 0, signal: null, stdout: "parent\n", timedOut: false });
      // CI runs as root on Linux, where unshare makes a PID namespace.
      expect(output.containment).toBe("pid-namespace");
      expect(await noneRunningWithin(seconds, 1000)).toBe(true);
    });

    describe.each([
      ["pid-namespace", probePidNamespace],
      ["cgroup", probeCgroup],
    ] as const)("under %s containment", (kind, probe) => {
      let containment: Containment | undefined;
      beforeAll(async () => {
        containment = await probe();
      });
      const tool = () => createExecuteCommand({ containment: containment! });

      it("kills a setsid'd descendant when the program exits", async (ctx) => {
        if (containment === undefined) ctx.skip(); // The host allows no such containment.
        const seconds = uniqueSleep();
        const output = await runTool(tool(), { command: "perl", args: escapee(seconds), timeoutMs: 20_000 });
        expect(output).toMatchObject({ exitCode: 0, stdout: "parent\n", timedOut: false, containment: kind });
        expect(await noneRunningWithin(seconds, 1000)).toBe(true);
      });

      it("kills a setsid'd descendant on timeout, reporting the program's own signal", async (ctx) => {
        if (containment === undefined) ctx.skip();
        const word = marker();
        const result = await callTool(tool(), { command: node, args: ["-e", grandchildScript(word, { setsid: true })], timeoutMs: 3000 });
        if (!isToolResult(result)) throw new Error("expected an error result");
        expect(result.structuredContent).toMatchObject({ timedOut: true, exitCode: null, signal: "SIGTERM", stdout: "started\n", containment: kind });
        expect(await noneRunningWithin(word, 10_000)).toBe(true);
      });

      it("keeps the program's exit code, argv[0] and working directory", async (ctx) => {
        if (containment === undefined) ctx.skip();
        const output = await runTool(tool(), { command: node, args: ["-e", "console.log(process.argv0, process.cwd()); process.exitCode = 7"], cwd: dir });
        expect(output).toMatchObject({ exitCode: 7, signal: null, stdout: `${node} ${dir}\n` });
      });

      it("reports a program that cannot start", async (ctx) => {
        if (containment === undefined) ctx.skip();
        await expect(runTool(tool(), { command: join(dir, "file.txt") })).rejects.toThrow(/permission denied/);
      });
    });

    it("without containment, still ends the call soon after the program exits", async () => {
      // The setsid'd sleep escapes a process-group kill (the README says so) and holds stdout
      // open; the call must not wait for it until the timeout.
      const seconds = uniqueSleep();
      const tool = createExecuteCommand({ containment: { kind: "process-group" } });
      const output = await runTool(tool, { command: "perl", args: escapee(seconds), timeoutMs: 20_000 });
      expect(output).toMatchObject({ exitCode: 0, stdout: "parent\n", timedOut: false, containment: "process-group" });
      expect(output.durationMs).toBeLessThan(20_000);
    });
  });

  describe("allow-list (tools.executeCommand.allowCommands)", () => {
    const nodeName = basename(node);

    it("runs a listed program", async () => {
      const tool = createExecuteCommand({ allowCommands: [nodeName] });
      expect(await runTool(tool, { command: node, args: ["-e", "console.log('ok')"] })).toMatchObject({ exitCode: 0, stdout: "ok\n" });
    });

    it("refuses a program it does not list, naming the setting", async () => {
      const tool = createExecuteCommand({ allowCommands: [nodeName] });
      await expect(runTool(tool, { command: "perl", args: ["-e", "1"] })).rejects.toThrow(
        new ToolError(`"perl" is not allowed: the allow-list (tools.executeCommand.allowCommands) does not list it`),
      );
    });

    it("refuses a listed name that is really an unlisted program", async () => {
      const links = join(dir, "allow-links");
      await mkdir(links, { recursive: true });
      const perl = await realpath(execPathOf("perl"));
      await symlink(perl, join(links, nodeName));
      const tool = createExecuteCommand({ allowCommands: [nodeName] });
      await expect(runTool(tool, { command: join(links, nodeName), args: ["-e", "1"] })).rejects.toThrow(
        `it is ${perl} ("${basename(perl)}"), which the allow-list (tools.executeCommand.allowCommands) does not list`,
      );
    });

    it("is configured through the composed server (tools.executeCommand in the config)", async () => {
      const ops = keyCaller("ops", "restricted", ["execute_command"]);
      const server = await createToolwireApp(
        { server: { port: 0 }, auth: { apiKeys: [ops.entry!] }, tools: { executeCommand: { allowCommands: [nodeName] } } },
        { logger: pino({ level: "silent" }) },
      );
      const { url } = await server.listen();
      try {
        const call = (command: string) =>
          fetch(`${url}/toolwire.v1.ToolService/CallTool`, {
            method: "POST",
            headers: { "content-type": "application/json", authorization: `Bearer ${ops.key}` },
            body: JSON.stringify({ name: "execute_command", arguments: { command, args: ["-e", "1"] } }),
          }).then((response) => response.text());
        expect(await call("perl")).toContain("tools.executeCommand.allowCommands");
        expect(await call(node)).toContain('"exitCode":0');
      } finally {
        await server.close(0);
      }
    });

    it("still applies the deny-list to listed programs", async () => {
      const tool = createExecuteCommand({ allowCommands: ["sh", nodeName] });
      await expect(runTool(tool, { command: "sh", args: ["-c", "id"] })).rejects.toThrow(`"sh" is not allowed`);
    });
  });

  describe("response size", () => {
    // Control bytes cost the most: \u0001 in the structured content, \\u0001 in the JSON text.
    const flood = "const b = Buffer.alloc(1024 * 1024, 1); process.stdout.write(b); process.stderr.write(b)";

    it("cuts stdout and stderr together to the response limit and says so", async () => {
      const tool = createExecuteCommand({ maxResponseBytes: 65_536 });
      const output = await runTool(tool, { command: node, args: ["-e", flood], maxOutputBytes: 1_048_576 });
      expect(validateOutput(output).message).toBe("");
      expect(output).toMatchObject({ exitCode: 0, stdoutTruncated: true, stderrTruncated: true, truncated: true });
      expect(output.note).toMatch(/tools\.executeCommand\.maxResponseBytes/);
      const cost = Buffer.byteLength(JSON.stringify(output.stdout) + JSON.stringify(JSON.stringify(output.stdout)));
      expect(cost).toBeLessThanOrEqual(65_536 / 2);
      expect(output.stdout.length).toBe(output.stderr.length);
    });

    it("leaves output within the limit alone", async () => {
      const output = await runNode("process.stdout.write('a\"b\\\\c\\n'.repeat(100))");
      expect(output).toMatchObject({ stdoutTruncated: false, truncated: false });
      expect(output).not.toHaveProperty("note");
    });

    it("keeps a CallTool response near the 1 MiB default even for 1 MiB of control bytes on each stream", async () => {
      // This call once answered 27 MB.
      const ops = keyCaller("ops", "restricted", ["execute_command"]);
      const server = await startServer({ tools: [executeCommand], authenticate: createAuthenticator({ apiKeys: [ops.entry!] }) });
      try {
        const response = await fetch(`${server.url}/toolwire.v1.ToolService/CallTool`, {
          method: "POST",
          headers: { "content-type": "application/json", authorization: `Bearer ${ops.key}` },
          body: JSON.stringify({ name: "execute_command", arguments: { command: node, args: ["-e", flood], maxOutputBytes: 1_048_576 } }),
        });
        const body = await response.text();
        expect(response.status).toBe(200);
        expect(body).toContain('"truncated":true');
        expect(body.length).toBeLessThan(1024 * 1024 + 16 * 1024);
      } finally {
        await server.close();
      }
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
