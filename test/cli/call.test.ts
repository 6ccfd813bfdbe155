import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { keyCaller } from "../helpers/security.js";
import { createTestTools } from "../helpers/test-tools.js";
import { closedPort } from "../helpers/ports.js";
import { hasScript, killLeftoverProcesses, runCli, runCliOnTerminal, spawnCli, startCliServer, type CliTestServer } from "./cli-process.js";
import { createCliTools } from "./cli-tools.js";

const member = keyCaller("cli-member", "authenticated");
const terminal = await hasScript();
const { tools: testTools, probe } = createTestTools();
let server: CliTestServer;
let env: Record<string, string>;
let dir: string;

beforeAll(async () => {
  server = await startCliServer({
    tools: [...testTools, ...createCliTools()],
    config: { auth: { apiKeys: [member.entry!] } },
  });
  env = { TOOLWIRE_URL: server.url };
  dir = await mkdtemp(join(tmpdir(), "toolwire-cli-call-"));
});
afterAll(async () => {
  await server?.close();
  await rm(dir, { recursive: true, force: true });
});
afterEach(killLeftoverProcesses);

const call = (args: string[], extra: Record<string, string> = {}, input?: string) => runCli(["call", ...args], { env: { ...env, ...extra }, input });

describe("toolwire call", () => {
  it("prints the structured result as JSON and exits 0", async () => {
    const { code, stdout, stderr } = await call(["calculator", "operation=add", "a=2", "b=3"]);
    expect(stderr).toBe("");
    expect(code).toBe(0);
    expect(JSON.parse(stdout)).toEqual({ operation: "add", operands: [2, 3], result: 5 });
  });

  it("reads key=value as JSON when it parses and as a string otherwise; key:=json must be JSON", async () => {
    const { code, stdout } = await call(["reflect", "n=2", "on=true", `list=[1,"a"]`, "s=hello world", `q="123"`, "empty=", `obj:={"a":{"b":null}}`]);
    expect(code).toBe(0);
    expect(JSON.parse(stdout)).toEqual({
      received: { n: 2, on: true, list: [1, "a"], s: "hello world", q: "123", empty: "", obj: { a: { b: null } } },
    });
  });

  it("takes the arguments object from --args, stdin or a file, with pairs applied over it", async () => {
    const inline = await call(["reflect", "--args", `{"a": 1, "b": "x"}`, "b=y"]);
    expect(JSON.parse(inline.stdout)).toEqual({ received: { a: 1, b: "y" } });
    const stdin = await call(["reflect", "--args", "-"], {}, `{"from": "stdin"}`);
    expect(JSON.parse(stdin.stdout)).toEqual({ received: { from: "stdin" } });
    const file = join(dir, "args.json");
    await writeFile(file, `{"from": "file"}`);
    const fromFile = await call(["reflect", "--args", `@${file}`]);
    expect(JSON.parse(fromFile.stdout)).toEqual({ received: { from: "file" } });
  });

  it.each([
    [["reflect", "novalue"], `"novalue" is not key=value`],
    [["reflect", "=1"], `"=1" has no key`],
    [["reflect", "n:=nope"], "n:= needs a JSON value"],
    [["reflect", "--args", "[1]"], "--args must be a JSON object"],
    [["reflect", "--args", "{"], "--args is not JSON"],
    [["reflect", "--args", "@/no/such/file.json"], "cannot read /no/such/file.json: ENOENT"],
    [["reflect", "--timeout", "soon"], "expected a whole number of milliseconds"],
    [["reflect", "--protocol", "smoke"], "Allowed choices are connect, grpc, grpc-web"],
    [["reflect", "--url", "ftp://example.com"], "--url must start with http:// or https://"],
    [["reflect", "--api-key", "k", "--token", "t"], "give an API key or a token, not both"],
  ])("refuses bad usage %j with exit 2 and a one-line reason", async (args, reason) => {
    const { code, stdout, stderr } = await call(args);
    expect(code).toBe(2);
    expect(stdout).toBe("");
    expect(stderr).toContain(reason);
    expect(stderr.trimEnd().split("\n")).toHaveLength(1);
  });

  it("exits 1 with the tool's own message when the tool reports an error", async () => {
    const { code, stdout, stderr } = await call(["calculator", "operation=divide", "a=1", "b=0"]);
    expect(code).toBe(1);
    expect(stdout).toBe("");
    expect(stderr).toBe(`toolwire call: tool "calculator" reported an error: division by zero (1 / 0)\n`);
  });

  it("prints the whole result as one JSON object with --json, tool errors included", async () => {
    const ok = await call(["echo", "message=hi", "--json"]);
    expect(ok.code).toBe(0);
    expect(ok.stdout.trimEnd().split("\n")).toHaveLength(1);
    expect(JSON.parse(ok.stdout)).toMatchObject({ structuredContent: { message: "hi" }, toolName: "echo", toolVersion: "1.0.0" });
    expect(JSON.parse(ok.stdout).requestId).toMatch(/.+/);

    const failed = await call(["refuse", "--json"]);
    expect(failed.code).toBe(1);
    expect(JSON.parse(failed.stdout)).toMatchObject({ isError: true, content: [{ text: { text: "the tool says no" } }] });
  });

  it("prints text content when the tool returns no structured content", async () => {
    const { code, stdout } = await call(["text_only"]);
    expect(code).toBe(0);
    expect(stdout).toBe("line one\nline two\n");
  });

  it.each([
    [["no_such_tool"], "toolwire call: not_found: "],
    [["echo", "uppercase=true"], "toolwire call: invalid_argument: "],
    // Tools hidden from the caller answer as missing ones.
    [["members"], 'toolwire call: not_found: tool "members" not found'],
    [["ops", "--api-key", member.key!], 'toolwire call: not_found: tool "ops" not found'],
  ])("exits 3 with the Connect code and message when the server refuses %j", async (args, prefix) => {
    const { code, stdout, stderr } = await call(args);
    expect(code).toBe(3);
    expect(stdout).toBe("");
    expect(stderr.startsWith(prefix)).toBe(true);
    expect(stderr.trimEnd().split("\n")).toHaveLength(1);
    expect(stderr).not.toMatch(/\n\s+at /);
  });

  it("calls with the API key from --api-key or TOOLWIRE_API_KEY, and the token from TOOLWIRE_TOKEN", async () => {
    const flag = await call(["members", "--api-key", member.key!]);
    expect(flag.stderr).toBe("");
    expect(JSON.parse(flag.stdout)).toEqual({ ok: true });
    const fromEnv = await call(["members"], { TOOLWIRE_API_KEY: member.key! });
    expect(JSON.parse(fromEnv.stdout)).toEqual({ ok: true });
    // The same key as a bearer token: the server accepts API keys there too.
    const bearer = await call(["members"], { TOOLWIRE_TOKEN: member.key! });
    expect(JSON.parse(bearer.stdout)).toEqual({ ok: true });
    const wrong = await call(["echo", "message=hi"], { TOOLWIRE_API_KEY: "not-a-key" });
    expect(wrong.code).toBe(3);
    expect(wrong.stderr).toContain("toolwire call: unauthenticated: invalid credentials: unknown API key");
  });

  it("calls the version or range --version names", async () => {
    expect(JSON.parse((await call(["versioned"])).stdout)).toEqual({ version: "2.0.0" });
    expect(JSON.parse((await call(["versioned", "--version", "^1"])).stdout)).toEqual({ version: "1.0.0" });
    const missing = await call(["versioned", "--version", "3.0.0"]);
    expect(missing.code).toBe(3);
    expect(missing.stderr).toContain(`not_found: tool "versioned" has no version matching "3.0.0"`);
  });

  it("prints deprecation warnings on stderr and the result on stdout", async () => {
    const { code, stdout, stderr } = await call(["old_tool"]);
    expect(code).toBe(0);
    expect(JSON.parse(stdout)).toEqual({ ok: true });
    expect(stderr).toBe(`warning: tool "old_tool" version 1.0.0 is deprecated\n`);
  });

  it("exits 4 with a one-line reason when no server answers", async () => {
    const url = `http://127.0.0.1:${await closedPort()}`;
    const { code, stderr } = await call(["echo", "message=hi", "--url", url]);
    expect(code).toBe(4);
    expect(stderr).toBe(`toolwire call: cannot reach the server at ${url}: connect ECONNREFUSED ${url.slice("http://".length)}\n`);
  });

  it("sends --timeout as a deadline the server enforces on the tool", async () => {
    const started = probe.started(probe.signals.length + 1);
    const { code, stderr } = await call(["hang", "--timeout", "300"]);
    expect(code).toBe(3);
    expect(stderr).toMatch(/^toolwire call: deadline_exceeded: /);
    expect((await started).aborted).toBe(true);
  });

  it("streams progress, logs and partial content as plain lines on stderr when it is not a terminal", async () => {
    const { code, stdout, stderr } = await call(["steps", "steps=3", "--stream"]);
    expect(code).toBe(0);
    expect(JSON.parse(stdout)).toEqual({ steps: 3 });
    expect(stderr.split("\n").filter(Boolean)).toEqual(
      [1, 2, 3].flatMap((i) => [`log info step ${i}`, `progress ${i}/3 step ${i} of 3`, `partial part ${i}`]),
    );
  });

  it.skipIf(!terminal)("draws the progress bar in place on a terminal, logs above it", async () => {
    const { code, stdout } = await runCliOnTerminal(["call", "steps", "steps=4", "--stream"], 60, { env });
    expect(code).toBe(0);
    // Each update erases the line and redraws the bar; a log line replaces the bar and it comes back.
    expect(stdout).toContain("\r\x1b[2K[######..................] 1/4  25%  step 1 of 4");
    expect(stdout).toContain("\r\x1b[2Klog info step 2\r\n\r\x1b[2K[######");
    expect(stdout).toContain("[########################] 4/4 100%  step 4 of 4");
    // The bar is gone before the result is printed.
    expect(stdout).toMatch(/\r\x1b\[2K\{\r\n {2}"steps": 4\r\n\}/);
    expect(stdout).not.toContain("progress 1/4");
  });

  it("cancels the call on the server and exits 130 on Ctrl-C", async () => {
    const started = probe.started(probe.signals.length + 1);
    const cli = spawnCli(["call", "hang", "--stream"], { env });
    const signal = await started;
    expect(signal.aborted).toBe(false);
    cli.child.kill("SIGINT");
    const { code, stderr } = await cli.exited;
    expect(code).toBe(130);
    expect(stderr).toBe("toolwire call: interrupted: the call was cancelled\n");
    await expect.poll(() => signal.aborted).toBe(true);
  });

  it.each([
    ["grpc", []],
    ["grpc-web", ["--http1"]],
    ["connect", ["--http1"]],
  ])("calls over --protocol %s %j", async (protocol, extra) => {
    const { code, stdout } = await call(["echo", "message=over the wire", "--protocol", protocol, ...extra]);
    expect(code).toBe(0);
    expect(JSON.parse(stdout)).toEqual({ message: "over the wire" });
  });
});
