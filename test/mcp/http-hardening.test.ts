import { Agent, request } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createMcpEndpoint } from "../../src/mcp/index.js";
import { createAuthenticator } from "../../src/security/index.js";
import { echo } from "../../src/tools/index.js";
import { authHeaders, keyCaller } from "../helpers/security.js";
import { startServer, type TestServer } from "../helpers/server.js";
import { createTestTools } from "../helpers/test-tools.js";
import { http1, http2, mcpPostHeaders, messagesOf } from "./raw-http.js";

const member = keyCaller("member", "authenticated");
const echoCall = (id: number, message = "hi") =>
  JSON.stringify({ jsonrpc: "2.0", id, method: "tools/call", params: { name: "echo", arguments: { message } } });

let server: TestServer;
let mcpUrl: string;
beforeAll(async () => {
  server = await startServer({
    tools: [echo, ...createTestTools().tools],
    authenticate: createAuthenticator({ apiKeys: [member.entry!] }),
    maxBodyBytes: 4096,
    extensions: [createMcpEndpoint()],
  });
  mcpUrl = `${server.url}/mcp`;
});
afterAll(() => server.close());

describe("/mcp request checks", () => {
  it("refuses a foreign Host with 403, so a rebound DNS name cannot reach a loopback server", async () => {
    const res = await http1(mcpUrl, { headers: { ...mcpPostHeaders, host: "evil.example:80" }, body: echoCall(1) });
    expect(res.status).toBe(403);
    expect(res.text).toContain("evil.example");
    const ok = await http1(mcpUrl, { headers: { ...mcpPostHeaders, host: `localhost:${server.port}` }, body: echoCall(2) });
    expect(ok.status).toBe(200);
  });

  it("refuses a browser page from a foreign origin", async () => {
    const res = await http1(mcpUrl, { headers: { ...mcpPostHeaders, origin: "https://evil.example" }, body: echoCall(1) });
    expect(res.status).toBe(403);
  });

  it("answers a tools/call POST without any handshake, as a stateless server", async () => {
    const res = await http1(mcpUrl, { headers: mcpPostHeaders, body: echoCall(7, "stateless") });
    expect(res.status).toBe(200);
    expect(res.headers["mcp-session-id"]).toBeUndefined();
    expect(messagesOf(res)).toContainEqual(expect.objectContaining({ id: 7, result: expect.objectContaining({ structuredContent: { message: "stateless" } }) }));
  });

  it("serves MCP over HTTP/2 on the same port", async () => {
    const res = await http2(mcpUrl, { headers: mcpPostHeaders, body: echoCall(3, "over h2") });
    expect(res.status).toBe(200);
    expect(res.headers.connection).toBeUndefined();
    expect(messagesOf(res)).toContainEqual(expect.objectContaining({ id: 3, result: expect.objectContaining({ structuredContent: { message: "over h2" } }) }));
  });

  it("refuses a body over the server's limit with 413, whether its length was declared or not", async () => {
    const big = echoCall(1, "x".repeat(8192));
    for (const chunked of [false, true]) {
      const res = await http1(mcpUrl, { headers: mcpPostHeaders, body: big, chunked });
      expect(res.status).toBe(413);
      expect(JSON.parse(res.text)).toMatchObject({ jsonrpc: "2.0", error: { message: "request body is larger than the server's limit of 4096 bytes" } });
    }
    const h2 = await http2(mcpUrl, { headers: mcpPostHeaders, body: big });
    expect(h2.status).toBe(413);
  });

  it("answers a body that is not JSON with a JSON-RPC parse error", async () => {
    const res = await http1(mcpUrl, { headers: mcpPostHeaders, body: '{"jsonrpc": "2.0", "id": 1,' });
    expect(res.status).toBe(400);
    expect(JSON.parse(res.text)).toMatchObject({ error: { code: -32700, message: expect.stringContaining("not valid JSON") } });
  });

  it("answers another content type with 415 and what to send", async () => {
    const res = await http1(mcpUrl, { headers: { ...mcpPostHeaders, "content-type": "text/plain" }, body: echoCall(1) });
    expect(res.status).toBe(415);
    expect(res.text).toContain("application/json");
  });

  it("answers a method MCP does not use with 405 and the methods it does", async () => {
    const res = await http1(mcpUrl, { method: "PUT", headers: mcpPostHeaders, body: echoCall(1) });
    expect(res.status).toBe(405);
    expect(res.headers.allow).toBe("GET, POST, DELETE");
  });

  it("answers unknown credentials with 401 and a Bearer challenge", async () => {
    const list = JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/list", params: {} });
    const res = await http1(mcpUrl, { headers: { ...mcpPostHeaders, authorization: "Bearer wrong-key-0123456789" }, body: list });
    expect(res.status).toBe(401);
    expect(res.headers["www-authenticate"]).toMatch(/^Bearer realm="toolwire", error="invalid_token", error_description="[^"]*unknown API key/);
    expect(JSON.parse(res.text)).toMatchObject({ error: { code: -32041, data: { code: "unauthenticated" } } });

    const good = await http1(mcpUrl, { headers: { ...mcpPostHeaders, ...authHeaders(member) }, body: list });
    expect(good.status).toBe(200);
  });
});

describe("/mcp narrowed to its own host names", () => {
  let narrowed: TestServer;
  beforeAll(async () => {
    narrowed = await startServer({
      tools: [echo],
      // The server as a whole answers to a second name; /mcp does not.
      allowedHosts: ["127.0.0.1", "tools.example"],
      extensions: [createMcpEndpoint({ allowedHosts: ["127.0.0.1"] })],
    });
  });
  afterAll(() => narrowed.close());

  it("refuses a Host the server accepts but the endpoint does not", async () => {
    const url = `${narrowed.url}/mcp`;
    const health = await http1(`${narrowed.url}/health`, { method: "GET", headers: { host: "tools.example" } });
    expect(health.status).toBe(200);
    const refused = await http1(url, { headers: { ...mcpPostHeaders, host: "tools.example" }, body: echoCall(1) });
    expect(refused.status).toBe(403);
    expect(JSON.parse(refused.text).error.message).toBe("Invalid Host: tools.example: /mcp answers only to 127.0.0.1 (DNS rebinding protection)");
    const allowed = await http1(url, { headers: mcpPostHeaders, body: echoCall(2) });
    expect(allowed.status).toBe(200);
  });
});

/** Sends one request over `agent` (a keep-alive connection) and reads the whole answer. */
function keptAlive(url: string, agent: Agent, method: string, body?: string): Promise<{ status: number; headers: Record<string, unknown>; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method, headers: method === "POST" ? mcpPostHeaders : {}, agent }, (res) => {
      let text = "";
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => (text += chunk));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text }));
    });
    req.on("error", reject);
    req.end(body);
  });
}

describe("/mcp during shutdown", () => {
  it("refuses new requests with 503 while a running call drains, then answers that call", async () => {
    const draining = await startServer({ tools: [echo, ...createTestTools().tools], extensions: [createMcpEndpoint()] });
    const url = `${draining.url}/mcp`;
    const running = http1(url, {
      headers: mcpPostHeaders,
      body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/call", params: { name: "slow", arguments: { ms: 150 } } }),
    });
    await expect.poll(() => draining.server.pipeline.inFlight).toBe(1);
    // The port refuses new connections once shutdown starts: the refused request goes over a
    // keep-alive connection opened now.
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    expect((await keptAlive(`${draining.url}/health`, agent, "GET")).status).toBe(200);
    const closed = draining.close(5_000);
    const refused = await keptAlive(url, agent, "POST", echoCall(2));
    agent.destroy();
    expect(refused.status).toBe(503);
    expect(refused.headers["retry-after"]).toBe("1");
    expect(JSON.parse(refused.text)).toMatchObject({ error: { data: { code: "unavailable" } } });
    const finished = await running;
    expect(messagesOf(finished)).toContainEqual(expect.objectContaining({ id: 1, result: expect.objectContaining({ structuredContent: { sleptMs: 150 } }) }));
    await closed;
  });
});
