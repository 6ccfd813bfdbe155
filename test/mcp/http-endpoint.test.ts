import { LOG_LEVEL_META_KEY, SdkHttpError, type LoggingMessageNotification, type Progress } from "@modelcontextprotocol/client";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { createMcpEndpoint, McpErrorCode } from "../../src/mcp/index.js";
import { defineTool, type ToolManifest } from "../../src/registry/index.js";
import type { CallOutcome, ObservedCall } from "../../src/runtime/index.js";
import { createAuthenticator } from "../../src/security/index.js";
import { calculator, echo } from "../../src/tools/index.js";
import { authHeaders, keyCaller } from "../helpers/security.js";
import { startServer, type TestServer } from "../helpers/server.js";
import { chatty, createTestTools, type ToolProbe } from "../helpers/test-tools.js";
import { createClientPool, eras, protocolError, textOf } from "./mcp-clients.js";
import { http1, mcpPostHeaders } from "./raw-http.js";

const member = keyCaller("member", "authenticated");
const admin = keyCaller("admin", "admin");
const limiters = { legacy: keyCaller("limiter-legacy", "authenticated"), modern: keyCaller("limiter-modern", "authenticated") };
const authenticate = createAuthenticator({ apiKeys: [member, admin, limiters.legacy, limiters.modern].map((c) => c.entry!) });

let server: TestServer;
let probe: ToolProbe;
let mcpUrl: string;
const observed: { call: ObservedCall; outcome: CallOutcome }[] = [];
const pool = createClientPool();

beforeAll(async () => {
  const test = createTestTools();
  probe = test.probe;
  server = await startServer({
    tools: [echo, calculator, liar, chatty, ...test.tools],
    authenticate,
    extensions: [createMcpEndpoint({ pageSize: 3 })],
  });
  server.server.pipeline.observe({ callEnded: (call, outcome) => observed.push({ call, outcome }) });
  mcpUrl = `${server.url}/mcp`;
});
afterEach(() => pool.closeAll());
afterAll(() => server.close());

const publicTools = ["boom", "calculator", "chatty", "echo", "hang", "liar", "limited", "refuse", "slow", "steps"];

// A tool whose output breaks its own output schema: a bug the model should hear about. (Typed
// as a plain ToolManifest, or defineTool would refuse the handler's wrong output at compile time.)
const liarManifest: ToolManifest = {
  name: "liar",
  version: "1.0.0",
  description: "promises a count, returns a word",
  input: { type: "object" },
  output: { type: "object", required: ["count"], properties: { count: { type: "integer" } } },
};
const liar = defineTool(liarManifest, () => ({ count: "many" }));

describe.each(eras)("MCP over Streamable HTTP, $name", (era) => {
  it("lists only the tools the caller may call, with their schemas and hints", async () => {
    const anonymous = await pool.connect(mcpUrl, era);
    const { tools } = await anonymous.listTools();
    expect(tools.map((t) => t.name)).toEqual(publicTools);
    const calc = tools.find((t) => t.name === "calculator");
    expect(calc?.title).toBe("Calculator");
    expect(calc?.description).toBe(calculator.descriptor.manifest.description);
    expect(calc?.inputSchema).toEqual(calculator.descriptor.manifest.input);
    expect(calc?.outputSchema).toEqual(calculator.descriptor.manifest.output);
    expect(calc?.annotations).toMatchObject({ title: "Calculator", readOnlyHint: true, destructiveHint: false, idempotentHint: true });
    expect(calc?._meta).toMatchObject({ "toolwire/version": "1.0.0", "toolwire/category": "math", "toolwire/securityLevel": "public" });

    const privileged = await pool.connect(mcpUrl, era, { headers: authHeaders(admin) });
    expect((await privileged.listTools()).tools.map((t) => t.name)).toEqual([...publicTools, "members", "ops", "root"].sort());
  });

  it("pages the tool list, and the cursors lead through every tool once", async () => {
    const client = await pool.connect(mcpUrl, era);
    const seen: string[] = [];
    let page = await client.request({ method: "tools/list", params: {} });
    seen.push(...page.tools.map((t) => t.name));
    expect(page.tools).toHaveLength(3);
    while (page.nextCursor !== undefined) {
      page = await client.listTools({ cursor: page.nextCursor });
      seen.push(...page.tools.map((t) => t.name));
    }
    expect(seen).toEqual(publicTools);
    const bad = await protocolError(client.listTools({ cursor: "not-a-cursor" }));
    expect(bad.code).toBe(McpErrorCode.InvalidParams);
    expect(bad.message).toContain("page_token is not valid");
  });

  it("calls a tool and answers its structured result and its JSON text", async () => {
    const client = await pool.connect(mcpUrl, era);
    const result = await client.callTool({ name: "calculator", arguments: { operation: "add", a: 2, b: 3 } });
    expect(result.isError).toBeFalsy();
    expect(result.structuredContent).toEqual({ operation: "add", operands: [2, 3], result: 5 });
    expect(JSON.parse(textOf(result))).toEqual({ operation: "add", operands: [2, 3], result: 5 });
    expect(result._meta).toMatchObject({ "toolwire/version": "1.0.0", "toolwire/requestId": expect.any(String) });
  });

  it("goes through the call pipeline, so observers see the call as an MCP call", async () => {
    const client = await pool.connect(mcpUrl, era, { headers: { "x-request-id": `trace-${era.era}` } });
    await client.callTool({ name: "echo", arguments: { message: "observed" } });
    const seen = observed.find((o) => o.call.requestId === `trace-${era.era}`);
    expect(seen?.call.caller.protocol).toBe("mcp");
    expect(seen?.call.toolName).toBe("echo");
    expect(seen?.outcome.code).toBe("ok");
  });

  it("answers arguments that break the input schema with an isError result naming each violation", async () => {
    const client = await pool.connect(mcpUrl, era);
    const result = await client.callTool({ name: "calculator", arguments: { operation: "divide", a: "one" } });
    expect(result.isError).toBe(true);
    expect(textOf(result)).toContain('invalid arguments for tool "calculator"');
    expect(textOf(result)).toContain("/a: must be number");
    expect(textOf(result)).toContain("/b: is required");
  });

  it("answers a failing tool with an isError result the model can read, and no internals", async () => {
    const client = await pool.connect(mcpUrl, era);
    const refused = await client.callTool({ name: "refuse", arguments: {} });
    expect(refused.isError).toBe(true);
    expect(textOf(refused)).toBe("the tool says no");
    const crashed = await client.callTool({ name: "boom", arguments: {} });
    expect(crashed.isError).toBe(true);
    expect(textOf(crashed)).toContain('tool "boom" failed with an unexpected error');
    expect(JSON.stringify(crashed)).not.toContain("hunter2");
    expect(JSON.stringify(crashed)).not.toContain("secret.ts");
    const division = await client.callTool({ name: "calculator", arguments: { operation: "divide", a: 1, b: 0 } });
    expect(division.isError).toBe(true);
    expect(textOf(division)).toMatch(/division by zero/i);
    const lying = await client.callTool({ name: "liar", arguments: {} });
    expect(lying.isError).toBe(true);
    expect(textOf(lying)).toBe('tool "liar" returned output that breaks its output schema: /count: must be integer');
  });

  it("refuses an unknown tool with the protocol error the specification names", async () => {
    const client = await pool.connect(mcpUrl, era);
    const err = await protocolError(client.callTool({ name: "no_such_tool", arguments: {} }));
    expect(err.code).toBe(-32602);
    expect(err.message).toContain("Unknown tool: no_such_tool");
  });

  it("sends progress notifications when the client asked for them, and folds partial content into the result", async () => {
    const client = await pool.connect(mcpUrl, era);
    const progress: Progress[] = [];
    const result = await client.callTool({ name: "steps", arguments: { steps: 3 } }, { onprogress: (p) => progress.push(p) });
    expect(progress.map((p) => [p.progress, p.total, p.message])).toEqual([
      [1, 3, "step 1 of 3"],
      [2, 3, "step 2 of 3"],
      [3, 3, "step 3 of 3"],
    ]);
    expect(result.structuredContent).toEqual({ steps: 3 });
    expect(textOf(result).split("\n").slice(0, 3)).toEqual(["part 1", "part 2", "part 3"]);

    // Without a progress token the same call answers just its result.
    const quiet = await client.callTool({ name: "steps", arguments: { steps: 2 } });
    expect(quiet.structuredContent).toEqual({ steps: 2 });
  });

  it("ends a call at the tool's time limit with an isError result and aborts its handler", async () => {
    const client = await pool.connect(mcpUrl, era);
    const started = probe.signals.length;
    const result = await client.callTool({ name: "slow", arguments: { ms: 10_000 } });
    expect(result.isError).toBe(true);
    expect(textOf(result)).toBe('tool "slow" timed out after 200 ms');
    expect(probe.signals[started]?.aborted).toBe(true);
  });

  it("names the call's request id in every isError result, as in successes, and in refusals", async () => {
    const client = await pool.connect(mcpUrl, era);
    const failures = [
      { name: "calculator", arguments: { operation: "divide", a: "one" } },
      { name: "slow", arguments: { ms: 10_000 } },
      { name: "liar", arguments: {} },
      { name: "boom", arguments: {} },
      { name: "refuse", arguments: {} },
    ];
    for (const call of failures) {
      const result = await client.callTool(call);
      expect(result.isError, call.name).toBe(true);
      const requestId = (result._meta as Record<string, unknown> | undefined)?.["toolwire/requestId"];
      expect(requestId, call.name).toEqual(expect.any(String));
      // The id is the one the server's events and logs know the call by.
      expect(observed.find((o) => o.call.requestId === requestId)?.call.toolName, call.name).toBe(call.name);
    }
    const refused = await protocolError(client.callTool({ name: "members", arguments: {} }));
    expect(observed.find((o) => o.call.requestId === (refused.data as { requestId?: string }).requestId)?.outcome.code).toBe("unauthenticated");
  });

  it("uses the client's x-request-id as the request id of a failed call", async () => {
    const client = await pool.connect(mcpUrl, era, { headers: { "x-request-id": `timeout-${era.era}` } });
    const result = await client.callTool({ name: "slow", arguments: { ms: 10_000 } });
    expect(result.isError).toBe(true);
    expect(result._meta).toMatchObject({ "toolwire/requestId": `timeout-${era.era}` });
  });

  it("holds the client's own shorter deadline from _meta", async () => {
    const client = await pool.connect(mcpUrl, era);
    const result = await client.callTool({ name: "slow", arguments: { ms: 10_000 }, _meta: { "toolwire/timeoutMs": 50 } });
    expect(result.isError).toBe(true);
    expect(textOf(result)).toBe(`tool "slow" did not finish within the client's deadline (50 ms)`);
    const bad = await protocolError(client.callTool({ name: "echo", arguments: { message: "x" }, _meta: { "toolwire/timeoutMs": "soon" } }));
    expect(bad.code).toBe(-32602);
  });

  it("aborts the tool's handler when the client goes away", async () => {
    const client = await pool.connect(mcpUrl, era);
    const next = probe.signals.length + 1;
    const call = client.callTool({ name: "hang", arguments: {} }).catch(() => undefined);
    const signal = await probe.started(next);
    expect(signal.aborted).toBe(false);
    await client.close();
    await expect.poll(() => signal.aborted).toBe(true);
    await call;
  });

  it("calls tools above public for a caller with an API key, as bearer token or x-api-key", async () => {
    for (const as of ["bearer", "x-api-key"] as const) {
      const client = await pool.connect(mcpUrl, era, { headers: authHeaders(member, as) });
      const result = await client.callTool({ name: "members", arguments: {} });
      expect(result.structuredContent).toEqual({ ok: true });
    }
  });

  it("answers a call of a tool the caller may not list exactly as an unknown tool", async () => {
    const anonymous = await pool.connect(mcpUrl, era);
    const memberClient = await pool.connect(mcpUrl, era, { headers: authHeaders(member) });
    const answers = await Promise.all([
      protocolError(anonymous.callTool({ name: "members", arguments: {} })),
      protocolError(memberClient.callTool({ name: "root", arguments: {} })),
      protocolError(memberClient.callTool({ name: "no_such_tool", arguments: {} })),
    ]);
    const shape = (err: (typeof answers)[number]) => [err.code, err.message.replace(/"?(members|root|no_such_tool)"?/g, "<tool>"), JSON.stringify(err.data ?? null).replace(/(members|root|no_such_tool)/g, "<tool>").replace(/"requestId":"[^"]*"/, '"requestId":"<id>"')];
    expect(answers[0]?.message).toContain("members");
    expect(shape(answers[0]!)).toEqual(shape(answers[2]!));
    expect(shape(answers[1]!)).toEqual(shape(answers[2]!));
  });

  it("refuses unknown credentials with HTTP 401 when the client connects", async () => {
    const outcome = await pool.connect(mcpUrl, era, { headers: { "x-api-key": "not-a-configured-key" } }).then(
      () => "connected",
      (err: unknown) => err,
    );
    // Without an OAuth provider the SDK client reports the 401 with the server's explanation.
    expect(outcome).toBeInstanceOf(SdkHttpError);
    expect((outcome as SdkHttpError).data?.status).toBe(401);
    expect(JSON.stringify((outcome as SdkHttpError).data)).toContain("unknown API key");
  });

  it("answers a rate limit with an error that says when to retry", async () => {
    const client = await pool.connect(mcpUrl, era, { headers: authHeaders(limiters[era.era]) });
    for (let i = 0; i < 3; i++) await client.callTool({ name: "limited", arguments: {} });
    const limited = await protocolError(client.callTool({ name: "limited", arguments: {} }));
    expect(limited.code).toBe(McpErrorCode.RateLimited);
    expect(limited.message).toMatch(/retry after \d+s/);
    expect((limited.data as { retryAfterSeconds: number }).retryAfterSeconds).toBeGreaterThan(0);
  });
});

describe("MCP over Streamable HTTP, either generation", () => {
  it("aborts the tool's handler when a 2025-era client cancels a call served without a session", async () => {
    const client = await pool.connect(mcpUrl, eras[0]!, { headers: { "x-request-id": "cancel-legacy" } });
    const controller = new AbortController();
    const next = probe.signals.length + 1;
    const call = client.callTool({ name: "hang", arguments: {} }, { signal: controller.signal }).catch((e: unknown) => e);
    const signal = await probe.started(next);
    // That generation posts notifications/cancelled and leaves the call's request open.
    controller.abort("changed my mind");
    await expect.poll(() => signal.aborted).toBe(true);
    await expect.poll(() => observed.find((o) => o.call.requestId === "cancel-legacy")?.outcome.code).toBe("canceled");
    await expect.poll(() => server.server.pipeline.inFlight).toBe(0);
    await call;
    expect((await client.callTool({ name: "echo", arguments: { message: "still here" } })).structuredContent).toEqual({ message: "still here" });
  });

  it("lets only the caller that made a call cancel it without a session", async () => {
    const body = (id: number, method: string, params: Record<string, unknown>) => JSON.stringify({ jsonrpc: "2.0", id, method, params });
    const cancel = JSON.stringify({ jsonrpc: "2.0", method: "notifications/cancelled", params: { requestId: 41 } });
    const next = probe.signals.length + 1;
    const call = http1(mcpUrl, { headers: { ...mcpPostHeaders, ...authHeaders(member) }, body: body(41, "tools/call", { name: "hang", arguments: {} }) });
    const signal = await probe.started(next);
    expect((await http1(mcpUrl, { headers: { ...mcpPostHeaders, ...authHeaders(admin) }, body: cancel })).status).toBe(202);
    expect((await http1(mcpUrl, { headers: mcpPostHeaders, body: cancel })).status).toBe(202);
    // An echo of the member's own answered afterwards: the cancellations above had their turn.
    await http1(mcpUrl, { headers: { ...mcpPostHeaders, ...authHeaders(member) }, body: body(42, "tools/call", { name: "echo", arguments: { message: "x" } }) });
    expect(signal.aborted).toBe(false);
    expect((await http1(mcpUrl, { headers: { ...mcpPostHeaders, ...authHeaders(member) }, body: cancel })).status).toBe(202);
    await expect.poll(() => signal.aborted).toBe(true);
    await call.catch(() => undefined);
  });

  it("aborts the tool's handler when the client closes a call's request", async () => {
    for (const headers of [{}, { "mcp-protocol-version": "2025-06-18" }] as Record<string, string>[]) {
      const controller = new AbortController();
      const next = probe.signals.length + 1;
      const body = JSON.stringify({ jsonrpc: "2.0", id: 7, method: "tools/call", params: { name: "hang", arguments: {} } });
      const answer = fetch(mcpUrl, { method: "POST", headers: { ...mcpPostHeaders, ...headers, "x-request-id": "closed" }, body, signal: controller.signal }).catch(() => undefined);
      const signal = await probe.started(next);
      controller.abort();
      await expect.poll(() => signal.aborted).toBe(true);
      await expect.poll(() => server.server.pipeline.inFlight).toBe(0);
      expect(observed.findLast((o) => o.call.requestId === "closed")?.outcome.code).toBe("canceled");
      await answer;
    }
  });

  it("filters a 2026-07-28 call's log messages by the level the request names", async () => {
    const client = await pool.connect(mcpUrl, eras[1]!);
    const logs: LoggingMessageNotification["params"][] = [];
    client.setNotificationHandler("notifications/message", (n) => void logs.push(n.params));
    await client.callTool({ name: "steps", arguments: { steps: 2 }, _meta: { [LOG_LEVEL_META_KEY]: "debug" } });
    await expect.poll(() => logs.length).toBe(2);
    expect(logs).toEqual([
      { level: "info", logger: "steps", data: "step 1" },
      { level: "info", logger: "steps", data: "step 2" },
    ]);
    logs.length = 0;
    await client.callTool({ name: "chatty", arguments: {}, _meta: { [LOG_LEVEL_META_KEY]: "error" } });
    await expect.poll(() => logs.length).toBe(1);
    expect(logs).toEqual([{ level: "error", logger: "chatty", data: "something broke" }]);
    // A request that names no level gets no log messages.
    logs.length = 0;
    await client.callTool({ name: "chatty", arguments: {} });
    await client.callTool({ name: "chatty", arguments: {}, _meta: { [LOG_LEVEL_META_KEY]: "info" } });
    await expect.poll(() => logs.length).toBe(2);
    expect(logs.map((l) => l.level)).toEqual(["info", "error"]);
  });

  it("offers a 2025-era client served without a session no logging it could not honour", async () => {
    const client = await pool.connect(mcpUrl, eras[0]!);
    expect(client.getServerCapabilities()?.logging).toBeUndefined();
    // Each request is served by an instance of its own: a level set now would be forgotten by the next.
    const refused = await protocolError(client.request({ method: "logging/setLevel", params: { level: "error" } }));
    expect(refused.code).toBe(-32601);
    const logs: unknown[] = [];
    client.setNotificationHandler("notifications/message", (n) => void logs.push(n.params));
    const result = await client.callTool({ name: "chatty", arguments: {} });
    expect(result.structuredContent).toEqual({ ok: true });
    expect(logs).toEqual([]);
  });

  it("aborts the tool's handler when a 2026-07-28 client cancels the call", async () => {
    const client = await pool.connect(mcpUrl, eras[1]!);
    const controller = new AbortController();
    const next = probe.signals.length + 1;
    const call = client.callTool({ name: "hang", arguments: {} }, { signal: controller.signal }).catch((e: unknown) => e);
    const signal = await probe.started(next);
    expect(signal.aborted).toBe(false);
    controller.abort("changed my mind");
    await expect.poll(() => signal.aborted).toBe(true);
    await call;
    // The connection stays usable.
    expect((await client.callTool({ name: "echo", arguments: { message: "still here" } })).structuredContent).toEqual({ message: "still here" });
  });

  it("answers ping on a 2025-era connection", async () => {
    const client = await pool.connect(mcpUrl, eras[0]!);
    await expect(client.ping()).resolves.toEqual({});
  });

  it("tells a 2026-07-28 listener that the tool list changed", async () => {
    const client = await pool.connect(mcpUrl, eras[1]!);
    let changes = 0;
    client.setNotificationHandler("notifications/tools/list_changed", () => void changes++);
    const subscription = await client.listen({ toolsListChanged: true });
    expect(subscription.honoredFilter).toEqual({ toolsListChanged: true });
    server.server.registry.register(defineTool({ name: "late_arrival", version: "1.0.0", description: "registered late", input: { type: "object" } }, () => ({})));
    try {
      await expect.poll(() => changes).toBe(1);
      expect((await client.listTools()).tools.map((t) => t.name)).toContain("late_arrival");
    } finally {
      server.server.registry.unregister("late_arrival");
      await subscription.close();
    }
  });
});
