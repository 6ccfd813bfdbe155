import { PassThrough } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createMcpEndpoint, createPipelineToolSource, serveMcpOverStdio, type McpStdioServer } from "../../src/mcp/index.js";
import { echo } from "../../src/tools/index.js";
import { startServer, type TestServer } from "../helpers/server.js";
import { http1, mcpPostHeaders, messagesOf } from "./raw-http.js";

// A client's mistake is answered with JSON-RPC's own codes and a message a person can act on:
// -32600 for a message that is no valid request, -32602 for bad params, -32601 for a method the
// server does not serve; never -32603 (internal) or the schema library's issue list.

interface BadRequest {
  readonly name: string;
  readonly method: string;
  /** Omitted: the request has no params. */
  readonly params?: unknown;
  readonly code: number;
  /** Words the message must contain. */
  readonly says?: string;
}

const initializeParams = { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "t", version: "1" } };
const shapes: readonly BadRequest[] = [
  { name: "params an array", method: "tools/list", params: [1], code: -32602, says: "params must be an object" },
  { name: "params a string", method: "tools/list", params: "x", code: -32600, says: '"params" must be an object' },
  { name: "params null", method: "tools/call", params: null, code: -32600, says: '"params" must be an object' },
  { name: "a progress token of the wrong type", method: "tools/call", params: { name: "echo", _meta: { progressToken: {} } }, code: -32602, says: "progressToken must be a string or a number" },
];
const shared: readonly BadRequest[] = [
  ...shapes,
  { name: "tools/list with a numeric cursor", method: "tools/list", params: { cursor: 9 }, code: -32602, says: "params.cursor must be a string" },
  { name: "tools/call without params", method: "tools/call", code: -32602, says: "tools/call needs params.name (string)" },
  { name: "tools/call with a numeric name", method: "tools/call", params: { name: 5 }, code: -32602, says: "tools/call needs params.name (string)" },
  { name: "tools/call with arguments an array", method: "tools/call", params: { name: "echo", arguments: [1] }, code: -32602, says: "params.arguments must be an object" },
  { name: "resources/list (not served)", method: "resources/list", params: {}, code: -32601 },
  { name: "prompts/get (not served)", method: "prompts/get", params: { name: "p" }, code: -32601 },
  { name: "an unknown method", method: "nope/nothing", params: {}, code: -32601 },
];
const initializeNeeds = "initialize needs params.protocolVersion (string), params.capabilities (object) and params.clientInfo";
const legacy: readonly BadRequest[] = [
  ...shared,
  { name: "initialize without params", method: "initialize", code: -32602, says: initializeNeeds },
  { name: "initialize with empty params", method: "initialize", params: {}, code: -32602, says: initializeNeeds },
  { name: "initialize with a 2026 envelope only", method: "initialize", params: { _meta: { "io.modelcontextprotocol/protocolVersion": "2026-07-28" } }, code: -32602, says: initializeNeeds },
  { name: "initialize with fields of the wrong type", method: "initialize", params: { protocolVersion: 1, capabilities: "x", clientInfo: { name: 1 } }, code: -32602, says: initializeNeeds },
  { name: "initialize with params an array", method: "initialize", params: [initializeParams], code: -32602, says: "params must be an object" },
  { name: "ping with params an array", method: "ping", params: [], code: -32602, says: "params must be an object" },
];
const withLogging: readonly BadRequest[] = [
  ...legacy,
  { name: "logging/setLevel without params", method: "logging/setLevel", code: -32602, says: "logging/setLevel needs params.level, one of debug" },
  { name: "logging/setLevel with an unknown level", method: "logging/setLevel", params: { level: "loud" }, code: -32602, says: "logging/setLevel needs params.level" },
];
const invalidMessages: readonly { name: string; body: unknown; says: string }[] = [
  { name: "no jsonrpc version", body: { id: 1, method: "ping" }, says: '"jsonrpc" must be "2.0"' },
  { name: "a method that is no string", body: { jsonrpc: "2.0", id: 1, method: 5 }, says: '"method" must be a string' },
  { name: "an id that is an object", body: { jsonrpc: "2.0", id: {}, method: "ping" }, says: '"id" must be a string or a number' },
  { name: "neither method nor result", body: { jsonrpc: "2.0", id: 1 }, says: 'needs a "method"' },
  { name: "a number", body: 5, says: "must be an object" },
];

/** Sends one raw message and returns its answer; undefined for none. */
type Send = (message: unknown) => Promise<Answer | undefined>;
interface Answer {
  readonly id?: unknown;
  readonly error?: { readonly code: number; readonly message: string };
}

function expectRefused(answer: Answer | undefined, bad: { code: number; says?: string }): void {
  expect(answer?.error, JSON.stringify(answer)).toBeDefined();
  const { code, message } = answer!.error!;
  expect({ code, message }).toMatchObject({ code: bad.code, ...(bad.says === undefined ? {} : { message: expect.stringContaining(bad.says) }) });
  // One short line, not the schema library's issue list.
  expect(message).not.toMatch(/\n|invalid_type|"path"|"expected"/);
  expect(message.length).toBeLessThan(300);
}

function request(bad: BadRequest, id: number, extra: Record<string, unknown> = {}): Record<string, unknown> {
  const params =
    extra._meta !== undefined && typeof bad.params === "object" && bad.params !== null && !Array.isArray(bad.params)
      ? { ...bad.params, _meta: { ...(bad.params as { _meta?: object })._meta, ...(extra._meta as object) } }
      : bad.params;
  return { jsonrpc: "2.0", id, method: bad.method, ...(params === undefined ? {} : { params }) };
}

let server: TestServer;
let mcpUrl: string;
let nextId = 1;
beforeAll(async () => {
  server = await startServer({ tools: [echo], extensions: [createMcpEndpoint({ sessions: true })] });
  mcpUrl = `${server.url}/mcp`;
});
afterAll(() => server.close());

function httpSend(headers: Record<string, string>): Send {
  return async (message) => {
    const response = await http1(mcpUrl, { headers: { ...mcpPostHeaders, ...headers }, body: JSON.stringify(message) });
    if (response.status === 202) return undefined;
    return messagesOf(response)[0] as Answer;
  };
}

async function openSession(): Promise<Record<string, string>> {
  const opened = await http1(mcpUrl, { headers: mcpPostHeaders, body: JSON.stringify({ jsonrpc: "2.0", id: 0, method: "initialize", params: initializeParams }) });
  const headers = { "mcp-session-id": String(opened.headers["mcp-session-id"]), "mcp-protocol-version": "2025-06-18" };
  await http1(mcpUrl, { headers: { ...mcpPostHeaders, ...headers }, body: JSON.stringify({ jsonrpc: "2.0", method: "notifications/initialized" }) });
  return headers;
}

describe("MCP over HTTP, 2025-era without a session", () => {
  const send = httpSend({});
  it.each(legacy)("answers $name with $code and a readable message", async (bad) => {
    expectRefused(await send(request(bad, nextId++)), bad);
  });
  it.each(invalidMessages)("answers a message with $name with -32600", async ({ body, says }) => {
    expectRefused(await send(body), { code: -32600, says });
  });
});

describe("MCP over HTTP, 2025-era in a session", () => {
  let send: Send;
  beforeAll(async () => {
    send = httpSend(await openSession());
  });
  it.each(withLogging)("answers $name with $code and a readable message", async (bad) => {
    expectRefused(await send(request(bad, nextId++)), bad);
  });
  it.each(invalidMessages)("answers a message with $name with -32600, not a parse error", async ({ body, says }) => {
    expectRefused(await send(body), { code: -32600, says });
  });
  it("answers an empty batch with -32600", async () => {
    expectRefused(await send([]), { code: -32600, says: "batch is empty" });
  });
});

describe("MCP over HTTP, 2026-07-28 stateless", () => {
  const envelope = { "io.modelcontextprotocol/protocolVersion": "2026-07-28", "io.modelcontextprotocol/clientCapabilities": {} };
  it.each(shared)("answers $name with $code and a readable message", async (bad) => {
    const name = typeof bad.params === "object" && bad.params !== null ? (bad.params as { name?: unknown }).name : undefined;
    const headers = { "mcp-protocol-version": "2026-07-28", "mcp-method": bad.method, ...(typeof name === "string" ? { "mcp-name": name } : {}) };
    // Requests without params have no envelope to carry, and are refused for that first.
    const expected = bad.params === undefined ? { code: -32602, says: "envelope" } : bad;
    expectRefused(await httpSend(headers)(request(bad, nextId++, { _meta: envelope })), expected);
  });
});

describe("MCP over stdio", () => {
  let stdin: PassThrough;
  let served: McpStdioServer;
  // Answers by id, and who waits for which; a request the server drops fails by the test's timeout.
  const answers = new Map<unknown, Answer>();
  const waiting = new Map<unknown, (answer: Answer) => void>();
  beforeAll(async () => {
    stdin = new PassThrough();
    const stdout = new PassThrough();
    let buffered = "";
    stdout.on("data", (chunk: Buffer) => {
      buffered += chunk.toString("utf8");
      for (let nl = buffered.indexOf("\n"); nl !== -1; nl = buffered.indexOf("\n")) {
        const answer = JSON.parse(buffered.slice(0, nl)) as Answer;
        buffered = buffered.slice(nl + 1);
        answers.set(answer.id ?? null, answer);
        waiting.get(answer.id ?? null)?.(answer);
      }
    });
    const { registry, pipeline } = server.server;
    served = serveMcpOverStdio(createPipelineToolSource(registry, pipeline), {
      identity: { caller: { headers: new Headers(), protocol: "mcp" } },
      stdin,
      stdout,
    });
    const opened = await stdioSend({ jsonrpc: "2.0", id: "init", method: "initialize", params: initializeParams });
    expect(opened?.error).toBeUndefined();
    stdin.write(`${JSON.stringify({ jsonrpc: "2.0", method: "notifications/initialized" })}\n`);
  });
  afterAll(() => served.close());

  async function stdioSend(message: unknown, id: unknown = (message as { id?: unknown }).id ?? null): Promise<Answer | undefined> {
    return exchange(`${JSON.stringify(message)}\n`, id);
  }

  function exchange(line: string, id: unknown): Promise<Answer> {
    answers.delete(id);
    const answered = new Promise<Answer>((resolve) => waiting.set(id, resolve));
    stdin.write(line);
    return answered.finally(() => waiting.delete(id));
  }

  it.each(withLogging)("answers $name with $code and a readable message", async (bad) => {
    expectRefused(await stdioSend(request(bad, nextId++)), bad);
  });
  it.each(invalidMessages)("answers a message with $name with -32600 rather than dropping it", async ({ body, says }) => {
    const id = typeof body === "object" && body !== null && typeof (body as { id?: unknown }).id === "number" ? (body as { id: number }).id : null;
    expectRefused(await stdioSend(body, id), { code: -32600, says });
  });
  it("answers a line that is not JSON with -32700 and keeps serving", async () => {
    const answer = await exchange("{not json\n", null);
    expect(answer.error?.code).toBe(-32700);
    const pong = await stdioSend({ jsonrpc: "2.0", id: "after", method: "ping" });
    expect(pong?.error).toBeUndefined();
  });
});
