import { setTimeout as sleep } from "node:timers/promises";
import type { LoggingMessageNotification, StreamableHTTPClientTransport } from "@modelcontextprotocol/client";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { createMcpEndpoint } from "../../src/mcp/index.js";
import { createAuthenticator } from "../../src/security/index.js";
import { echo } from "../../src/tools/index.js";
import { authHeaders, keyCaller } from "../helpers/security.js";
import { startServer, type TestServer } from "../helpers/server.js";
import { chatty, createTestTools, type ToolProbe } from "../helpers/test-tools.js";
import { createClientPool, eras, registerUntilListChanged } from "./mcp-clients.js";
import { http1, mcpPostHeaders } from "./raw-http.js";

const legacy = eras[0]!;
const member = keyCaller("member", "authenticated");
const other = keyCaller("other", "authenticated");

let server: TestServer;
let probe: ToolProbe;
let mcpUrl: string;
const pool = createClientPool();

beforeAll(async () => {
  const test = createTestTools();
  probe = test.probe;
  server = await startServer({
    tools: [echo, chatty, ...test.tools],
    authenticate: createAuthenticator({ apiKeys: [member.entry!, other.entry!] }),
    extensions: [createMcpEndpoint({ sessions: { maxSessions: 2, idleTimeoutMs: 200 } })],
  });
  mcpUrl = `${server.url}/mcp`;
});
afterEach(() => pool.closeAll());
afterAll(() => server.close());

const initialize = JSON.stringify({
  jsonrpc: "2.0",
  id: 0,
  method: "initialize",
  params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "raw", version: "1" } },
});
const listTools = JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/list", params: {} });

/** Opens a session with a bare initialize and answers its id. */
async function openSession(headers: Record<string, string> = {}): Promise<string> {
  const res = await http1(mcpUrl, { headers: { ...mcpPostHeaders, ...headers }, body: initialize });
  expect(res.status).toBe(200);
  const id = res.headers["mcp-session-id"];
  expect(typeof id).toBe("string");
  return id as string;
}

function inSession(id: string, headers: Record<string, string> = {}, body = listTools) {
  return http1(mcpUrl, { headers: { ...mcpPostHeaders, "mcp-protocol-version": "2025-06-18", "mcp-session-id": id, ...headers }, body });
}

describe("2025-era sessions on /mcp", () => {
  it("gives a 2025-era client a session, so cancelling a call aborts the tool's handler", async () => {
    const client = await pool.connect(mcpUrl, legacy);
    expect((client.transport as StreamableHTTPClientTransport).sessionId).toMatch(/^[0-9a-f-]{36}$/);
    const controller = new AbortController();
    const next = probe.signals.length + 1;
    const call = client.callTool({ name: "hang", arguments: {} }, { signal: controller.signal }).catch((e: unknown) => e);
    const signal = await probe.started(next);
    expect(signal.aborted).toBe(false);
    controller.abort("changed my mind");
    await expect.poll(() => signal.aborted).toBe(true);
    await call;
  });

  it("honours the session's logging/setLevel for the log messages of its later calls", async () => {
    const client = await pool.connect(mcpUrl, legacy);
    expect(client.getServerCapabilities()?.logging).toEqual({});
    const logs: LoggingMessageNotification["params"][] = [];
    client.setNotificationHandler("notifications/message", (n) => void logs.push(n.params));
    await client.callTool({ name: "chatty", arguments: {} });
    await expect.poll(() => logs.map((l) => l.level)).toEqual(["info", "error"]);
    await client.setLoggingLevel("error");
    logs.length = 0;
    await client.callTool({ name: "chatty", arguments: {} });
    await expect.poll(() => logs.length).toBe(1);
    expect(logs).toEqual([{ level: "error", logger: "chatty", data: "something broke" }]);
    // A level is the session's own: another session still hears everything.
    const other = await pool.connect(mcpUrl, legacy);
    const otherLogs: string[] = [];
    other.setNotificationHandler("notifications/message", (n) => void otherLogs.push(n.params.level));
    await other.callTool({ name: "chatty", arguments: {} });
    await expect.poll(() => otherLogs).toEqual(["info", "error"]);
  });

  it("tells a 2025-era client on its GET stream that the tool list changed", async () => {
    const client = await pool.connect(mcpUrl, legacy);
    // The client opens its GET stream on its own once connected; until it is up, changes have nobody to reach.
    const added = await registerUntilListChanged(client, server.server.registry, { prefix: "late_", intervalMs: 50, timeoutMs: 5_000 });
    for (const name of added) server.server.registry.unregister(name);
  });

  it("binds a session to the caller that opened it", async () => {
    const id = await openSession(authHeaders(member));
    const own = await inSession(id, authHeaders(member));
    expect(own.status).toBe(200);
    for (const intruder of [{}, authHeaders(other)]) {
      const refused = await inSession(id, intruder);
      expect(refused.status).toBe(403);
      expect(JSON.parse(refused.text).error.message).toContain("this session belongs to another caller");
    }
    expect((await http1(mcpUrl, { method: "DELETE", headers: { "mcp-session-id": id, ...authHeaders(member) } })).status).toBe(200);
  });

  it("answers a session it does not hold with 404, so the client starts a new one", async () => {
    const res = await inSession("00000000-0000-0000-0000-000000000000");
    expect(res.status).toBe(404);
    expect(JSON.parse(res.text)).toMatchObject({ error: { code: -32001, message: expect.stringContaining("Session not found") } });
  });

  it("ends a session on DELETE", async () => {
    const id = await openSession();
    expect((await inSession(id)).status).toBe(200);
    expect((await http1(mcpUrl, { method: "DELETE", headers: { "mcp-session-id": id, "mcp-protocol-version": "2025-06-18" } })).status).toBe(200);
    expect((await inSession(id)).status).toBe(404);
  });

  it("serves clients beyond the session limit without a session instead of refusing them", async () => {
    const ids = [await openSession(), await openSession()];
    const beyond = await http1(mcpUrl, { headers: mcpPostHeaders, body: initialize });
    expect(beyond.status).toBe(200);
    expect(beyond.headers["mcp-session-id"]).toBeUndefined();
    expect(beyond.text).toContain('"serverInfo"');
    for (const id of ids) await http1(mcpUrl, { method: "DELETE", headers: { "mcp-session-id": id, "mcp-protocol-version": "2025-06-18" } });
  });

  it("ends a session left idle past its idle timeout", async () => {
    const id = await openSession();
    expect((await inSession(id)).status).toBe(200);
    // The sweep runs every second; 1.5 s without a request is past the 200 ms idle time whenever it runs.
    await sleep(1_500);
    expect((await inSession(id)).status).toBe(404);
  });
});
