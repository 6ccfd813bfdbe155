import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { PassThrough } from "node:stream";
import { Client, type Progress } from "@modelcontextprotocol/client";
import { getDefaultEnvironment, StdioClientTransport } from "@modelcontextprotocol/client/stdio";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { createAuthenticator } from "../../src/security/index.js";
import { createMonitoring } from "../../src/server/monitoring.js";
import { builtinTools } from "../../src/tools/index.js";
import { keyCaller } from "../helpers/security.js";
import { startServer, type TestServer } from "../helpers/server.js";
import { createTestTools, type ToolProbe } from "../helpers/test-tools.js";
import { eras, protocolError, registerUntilListChanged, textOf, type Era } from "./mcp-clients.js";
import { toolwireBin } from "../helpers/toolwire-bin.js";

const root = join(import.meta.dirname, "../..");
const bin = toolwireBin;

interface Spawned {
  readonly client: Client;
  readonly transport: StdioClientTransport;
  /** Everything the process wrote to stderr so far. */
  stderr(): string;
  /** Errors the client's transport reported (a non-JSON line on stdout would land here). */
  readonly transportErrors: Error[];
}

const spawned: Spawned[] = [];
const children: ChildProcess[] = [];
afterEach(async () => {
  for (const s of spawned.splice(0)) await s.client.close().catch(() => {});
  for (const child of children.splice(0)) if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
});

/** Starts `toolwire mcp <args>` as an MCP client would and connects to it. */
async function spawnMcp(era: Era, args: string[], env: Record<string, string> = {}): Promise<Spawned> {
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [bin, "mcp", ...args],
    cwd: root,
    env: { ...getDefaultEnvironment(), ...env },
    stderr: "pipe",
  });
  let stderr = "";
  (transport.stderr as PassThrough).on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  const client = new Client({ name: "toolwire-test", version: "1.0.0" }, era.options);
  const transportErrors: Error[] = [];
  const entry: Spawned = { client, transport, stderr: () => stderr, transportErrors };
  spawned.push(entry);
  await client.connect(transport);
  // Set after connect: the client installs its own handler while connecting.
  const previous = transport.onerror;
  transport.onerror = (err) => {
    transportErrors.push(err);
    previous?.(err);
  };
  return entry;
}

describe.each(eras)("toolwire mcp (local tools over stdio), $name", (era) => {
  it("lists the built-in tools an anonymous caller may call and calls them", async () => {
    const { client, transportErrors } = await spawnMcp(era, ["--log-level", "debug"]);
    const { tools } = await client.listTools();
    expect(tools.map((t) => t.name)).toEqual(["calculator", "echo", "monitor_resources", "system_info"]);
    const result = await client.callTool({ name: "calculator", arguments: { operation: "multiply", a: 6, b: 7 } });
    expect(result.structuredContent).toEqual({ operation: "multiply", operands: [6, 7], result: 42 });
    expect(transportErrors).toEqual([]);
  });

  it("streams progress, and answers errors as the HTTP endpoint does", async () => {
    const { client } = await spawnMcp(era, []);
    const progress: Progress[] = [];
    const result = await client.callTool(
      { name: "monitor_resources", arguments: { duration: 1, interval: 0.5 } },
      { onprogress: (p) => progress.push(p) },
    );
    expect(result.isError).toBeFalsy();
    // The server sends both notifications before the result (it waits for them), but the SDK
    // client may settle the request before it has handled the last one over stdio, and then drops
    // it; so the last one is not guaranteed, the first one and the order are.
    const seen = progress.map((p) => [p.progress, p.total]);
    expect(seen[0]).toEqual([1, 2]);
    expect([
      [1, 2],
      [2, 2],
    ].slice(0, seen.length)).toEqual(seen);
    const invalid = await client.callTool({ name: "calculator", arguments: { operation: "add", a: 1 } });
    expect(invalid.isError).toBe(true);
    expect(textOf(invalid)).toContain("/b: is required");
    expect((await protocolError(client.callTool({ name: "missing", arguments: {} }))).message).toContain("Unknown tool: missing");
    if (era.era === "legacy") await expect(client.ping()).resolves.toEqual({});
  });
});

describe("toolwire mcp with credentials", () => {
  let dir: string;
  const desk = keyCaller("desk", "authenticated");
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "toolwire-mcp-"));
    await writeFile(join(dir, "toolwire.json"), JSON.stringify({ auth: { apiKeys: [desk.entry] } }));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it("calls local tools above public with the key from TOOLWIRE_API_KEY, checked by the configured pipeline", async () => {
    const { client } = await spawnMcp(eras[0]!, ["--config", join(dir, "toolwire.json")], { TOOLWIRE_API_KEY: desk.key! });
    const names = (await client.listTools()).tools.map((t) => t.name);
    expect(names).toContain("list_processes");
    const result = await client.callTool({ name: "list_processes", arguments: { limit: 1 } });
    expect(result.isError).toBeFalsy();
  });

  it("writes its logs to stderr and only protocol messages to stdout", async () => {
    const { client, stderr, transportErrors } = await spawnMcp(eras[0]!, ["--config", join(dir, "toolwire.json"), "--log-level", "debug"], {
      TOOLWIRE_API_KEY: "a-key-nobody-configured",
    });
    const refused = await protocolError(client.callTool({ name: "echo", arguments: { message: "hi" } }));
    expect(refused.message).toContain("unknown API key");
    await expect.poll(() => stderr()).toContain("toolwire mcp serving on stdio");
    expect(transportErrors).toEqual([]);
  });

  it("refuses a --remote that is not an HTTP URL with a one-line reason and exit code 2", async () => {
    const child = spawn(process.execPath, [bin, "mcp", "--remote", "ftp://x"], { cwd: root, stdio: ["pipe", "pipe", "pipe"] });
    children.push(child);
    let stderr = "";
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    const [code] = (await once(child, "exit")) as [number | null];
    expect(code).toBe(2);
    expect(stderr.trim()).toBe('toolwire mcp: --remote must be an http:// or https:// URL, got "ftp://x"');
  });
});

describe("toolwire mcp with plugin directories", () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "toolwire-mcp-plugins-"));
    await writeFile(join(dir, "first.mjs"), plugin("first_plugin_tool"));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  function plugin(name: string): string {
    const manifest = { name, version: "1.0.0", description: `plugin tool ${name}`, input: { type: "object" } };
    return `export const tool = { manifest: ${JSON.stringify(manifest)}, handler: () => ({ from: ${JSON.stringify(name)} }) };\n`;
  }

  it("serves the plugins' tools and tells the client when --watch picks up a new one", async () => {
    const { client } = await spawnMcp(eras[0]!, ["--watch"], { TOOLWIRE_PLUGIN_DIRS: dir });
    let changes = 0;
    client.setNotificationHandler("notifications/tools/list_changed", () => void changes++);
    expect((await client.listTools()).tools.map((t) => t.name)).toContain("first_plugin_tool");
    expect((await client.callTool({ name: "first_plugin_tool", arguments: {} })).structuredContent).toEqual({ from: "first_plugin_tool" });
    await writeFile(join(dir, "second.mjs"), plugin("second_plugin_tool"));
    await expect.poll(() => changes, { timeout: 10_000 }).toBeGreaterThan(0);
    expect((await client.listTools()).tools.map((t) => t.name)).toContain("second_plugin_tool");
  });
});

describe("toolwire mcp --remote", () => {
  const member = keyCaller("member", "authenticated");
  let server: TestServer;
  let probe: ToolProbe;
  beforeAll(async () => {
    const test = createTestTools();
    probe = test.probe;
    server = await startServer({
      tools: [...builtinTools, ...test.tools],
      authenticate: createAuthenticator({ apiKeys: [member.entry!] }),
      extensions: [createMonitoring()],
    });
  });
  afterAll(() => server.close());

  it.each(eras)("exposes the remote server's tools to a $name client, with the caller's key", async (era) => {
    const { client } = await spawnMcp(era, ["--remote", server.url], { TOOLWIRE_API_KEY: member.key! });
    const { tools } = await client.listTools();
    expect(tools.map((t) => t.name)).toContain("members");
    const echoTool = tools.find((t) => t.name === "echo");
    expect(echoTool?.inputSchema).toEqual(builtinTools.find((t) => t.descriptor.manifest.name === "echo")?.descriptor.manifest.input);
    expect((await client.callTool({ name: "members", arguments: {} })).structuredContent).toEqual({ ok: true });
    const progress: Progress[] = [];
    const streamed = await client.callTool({ name: "steps", arguments: { steps: 2 } }, { onprogress: (p) => progress.push(p) });
    // As above: the SDK client may drop the last notification when the result arrives with it.
    const messages = progress.map((p) => p.message);
    expect(messages[0]).toBe("step 1 of 2");
    expect(["step 1 of 2", "step 2 of 2"].slice(0, messages.length)).toEqual(messages);
    expect(textOf(streamed).split("\n").slice(0, 2)).toEqual(["part 1", "part 2"]);
  });

  it("tells the client when the remote server's tool list changes", async () => {
    const { client } = await spawnMcp(eras[0]!, ["--remote", server.url]);
    // The process watches the server's events from its start; until its stream is up, changes have nobody to reach.
    const added = await registerUntilListChanged(client, server.server.registry, { prefix: "remote_late_", intervalMs: 100, timeoutMs: 10_000 });
    try {
      expect((await client.listTools()).tools.map((t) => t.name)).toContain("remote_late_0");
    } finally {
      for (const name of added) server.server.registry.unregister(name);
    }
  });

  it("answers a caller without a key, for a tool hidden from it, as for an unknown tool", async () => {
    const { client } = await spawnMcp(eras[0]!, ["--remote", server.url]);
    expect((await client.listTools()).tools.map((t) => t.name)).not.toContain("members");
    const refused = await protocolError(client.callTool({ name: "members", arguments: {} }));
    expect(refused.message).toBe("Unknown tool: members");
  });

  it("cancels the remote call when the MCP client cancels", async () => {
    const { client } = await spawnMcp(eras[0]!, ["--remote", server.url]);
    const next = probe.signals.length + 1;
    const controller = new AbortController();
    const call = client.callTool({ name: "hang", arguments: {} }, { signal: controller.signal }).catch(() => undefined);
    const signal = await probe.started(next);
    controller.abort();
    await expect.poll(() => signal.aborted).toBe(true);
    await call;
  });

  it("exits by itself, with code 0, when the client closes its end", async () => {
    const child = spawn(process.execPath, [bin, "mcp", "--remote", server.url], { cwd: root, stdio: ["pipe", "pipe", "inherit"] });
    children.push(child);
    const initialize = { jsonrpc: "2.0", id: 1, method: "initialize", params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "raw", version: "1" } } };
    child.stdin.write(`${JSON.stringify(initialize)}\n`);
    const [line] = (await once(child.stdout, "data")) as [Buffer];
    expect(JSON.parse(line.toString())).toMatchObject({ id: 1, result: { serverInfo: { name: "toolwire" } } });
    const exited = once(child, "exit");
    child.stdin.end();
    const [code, signal] = (await exited) as [number | null, NodeJS.Signals | null];
    expect({ code, signal }).toEqual({ code: 0, signal: null });
  });
});
