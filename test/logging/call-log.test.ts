import { execFile } from "node:child_process";
import { join } from "node:path";
import { promisify } from "node:util";
import { pino, type Logger } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createAuthenticator } from "../../src/security/index.js";
import { createLogger } from "../../src/logging/index.js";
import { echo } from "../../src/tools/echo.js";
import { authHeaders, keyCaller } from "../helpers/security.js";
import { toolClient, type TestServer } from "../helpers/server.js";
import { createTestTools } from "../helpers/test-tools.js";
import { startMonitoredServer } from "../server/monitor-helpers.js";
import { createConnectTransport } from "@connectrpc/connect-node";
import type { Interceptor } from "@connectrpc/connect";

const run = promisify(execFile);
const root = join(import.meta.dirname, "../..");
const member = keyCaller("member", "authenticated");

type Line = Record<string, unknown>;

function captureLogger(level: string): { logger: Logger; lines: Line[] } {
  const lines: Line[] = [];
  return { logger: pino({ level }, { write: (line: string) => lines.push(JSON.parse(line) as Line) }), lines };
}

function withHeaders(headers: Record<string, string>): Interceptor {
  return (next) => (req) => {
    for (const [name, value] of Object.entries(headers)) req.header.set(name, value);
    return next(req);
  };
}

function tools(url: string, headers: Record<string, string> = {}) {
  return toolClient(url, createConnectTransport({ baseUrl: url, httpVersion: "1.1", interceptors: [withHeaders({ ...headers, "x-request-id": "req-1" })] }));
}

const callLines = (lines: Line[]) => lines.filter((l) => l.msg === "tool call");
const ignore = () => undefined;

describe("per-call log lines", () => {
  let server: TestServer;
  const captured = captureLogger("info");
  beforeAll(async () => {
    server = await startMonitoredServer({
      tools: [echo, ...createTestTools().tools],
      logger: captured.logger,
      authenticate: createAuthenticator({ apiKeys: member.entry === undefined ? [] : [member.entry] }),
    });
    await tools(server.url).callTool({ name: "echo", arguments: { message: "password=hunter2" } });
    await tools(server.url).callTool({ name: "members" }).catch(ignore);
    await tools(server.url, { authorization: "Bearer sk-wrong-0123456789" }).callTool({ name: "members" }).catch(ignore);
    await tools(server.url, authHeaders(member)).callTool({ name: "root" }).catch(ignore);
    for (let i = 0; i < 4; i++) await tools(server.url, authHeaders(member)).callTool({ name: "limited" }).catch(ignore);
    await tools(server.url).callTool({ name: "refuse" });
  });
  afterAll(() => server.close());

  it("writes one line per call with request id, tool, caller, code and duration", () => {
    const lines = callLines(captured.lines);
    expect(lines).toHaveLength(9);
    expect(lines[0]).toMatchObject({
      level: 30,
      requestId: "req-1",
      tool: "echo",
      version: "1.0.0",
      callerId: "anonymous",
      protocol: "connect",
      peer: "127.0.0.1",
      code: "ok",
    });
    expect(typeof lines[0]?.durationMs).toBe("number");
    expect(lines.at(-1)).toMatchObject({ level: 30, tool: "refuse", code: "tool_error" });
  });

  it("logs denials and limit hits as warnings with the caller, the tool and the reason", () => {
    const warnings = callLines(captured.lines).filter((l) => l.level === 40);
    expect(warnings.map((l) => [l.tool, l.callerId, l.code])).toEqual([
      ["members", "anonymous", "unauthenticated"],
      // Bad credentials: no caller id was established, the peer address still is.
      ["members", undefined, "unauthenticated"],
      ["root", "member", "permission_denied"],
      ["limited", "member", "resource_exhausted"],
    ]);
    expect(warnings[0]?.reason).toBe('tool "members" requires an authenticated caller; send credentials (Authorization: Bearer <key or token>)');
    expect(warnings[2]?.reason).toBe('tool "root" requires the admin level; caller "member" has authenticated');
    expect(String(warnings[3]?.reason)).toContain('rate limit of tool "limited" reached');
    expect(warnings.every((l) => l.requestId === "req-1" && l.peer === "127.0.0.1")).toBe(true);
  });

  it("never writes credentials or arguments", () => {
    const text = JSON.stringify(captured.lines);
    expect(text).not.toContain(member.key);
    expect(text).not.toContain("sk-wrong");
    expect(text).not.toContain("hunter2");
  });
});

describe("log configuration", () => {
  it("writes only lines at or above the configured level", async () => {
    const captured = captureLogger("warn");
    const server = await startMonitoredServer({ tools: [echo, ...createTestTools().tools], logger: captured.logger });
    try {
      await tools(server.url).callTool({ name: "echo", arguments: { message: "x" } });
      await tools(server.url).callTool({ name: "members" }).catch(ignore);
      expect(callLines(captured.lines).map((l) => l.code)).toEqual(["unauthenticated"]);
    } finally {
      await server.close();
    }
  });

  it("can be turned off", async () => {
    const captured = captureLogger("info");
    const server = await startMonitoredServer({ tools: [echo], logger: captured.logger, monitoring: { logCalls: false } });
    try {
      await tools(server.url).callTool({ name: "echo", arguments: { message: "x" } });
      expect(callLines(captured.lines)).toEqual([]);
    } finally {
      await server.close();
    }
  });

  it("createLogger writes JSON lines at the chosen level, with credentials redacted", async () => {
    const { stdout } = await run(join(root, "node_modules/.bin/tsx"), [join(import.meta.dirname, "logger-child.ts"), "info", "false", "1"], { cwd: root });
    const lines = stdout.trim().split("\n").map((l) => JSON.parse(l) as Line);
    expect(lines.map((l) => l.msg)).toEqual(["tool call", "denied"]);
    expect(lines[0]).toMatchObject({ level: 30, tool: "echo", headers: { authorization: "[redacted]" }, apiKey: "[redacted]" });
    expect(stdout).not.toContain("sk-live-secret");
  });

  it("createLogger writes pretty lines for a person when asked, to stderr when told", async () => {
    const { stdout, stderr } = await run(join(root, "node_modules/.bin/tsx"), [join(import.meta.dirname, "logger-child.ts"), "debug", "true", "2"], { cwd: root });
    expect(stdout).toBe("");
    const lines = stderr.trim().split("\n");
    expect(lines[0]).toMatch(/^\[\d\d:\d\d:\d\d\.\d{3}\] DEBUG: debug line$/);
    expect(stderr).toMatch(/INFO: tool call\n/);
    expect(stderr).toMatch(/WARN: denied\n\s+callerId: "bob"/);
    expect(stderr).not.toContain("sk-live-secret");
    expect(() => JSON.parse(lines[0] ?? "")).toThrow();
  });

  it("createLogger refuses an unknown level, naming the valid ones", () => {
    expect(() => createLogger({ level: "verbose" })).toThrow('unknown log level "verbose"; use one of fatal, error, warn, info, debug, trace, silent');
  });
});
