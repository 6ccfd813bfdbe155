import { Code } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ErrorInfoSchema } from "../../gen/proto/toolwire/v1/errors_pb.js";
import { SecurityLevel } from "../../gen/proto/toolwire/v1/tool_pb.js";
import {
  createProductionClient,
  createSimpleClient,
  createToolwireClient,
  ToolCallError,
  type ToolStreamEvent,
  type ToolwireClient,
} from "../../src/client/index.js";
import { calculator } from "../../src/tools/calculator.js";
import { echo } from "../../src/tools/echo.js";
import { monitorResources } from "../../src/tools/monitor-resources.js";
import { startServer, type TestServer } from "../helpers/server.js";
import { createTestTools } from "../helpers/test-tools.js";
import { clientProtocolCases, createClientTestTools, testAuthenticator, rejection, type ClientProbe } from "./client-fixtures.js";
import { establishedConnections } from "./proc-connections.js";

let server: TestServer;
let probe: ClientProbe;
/** Tool calls that reached the server's pipeline, by tool name (refused ones included). */
const arrived = new Map<string, number>();

beforeAll(async () => {
  const fixtures = createClientTestTools("main");
  probe = fixtures.probe;
  const steps = createTestTools().tools.filter((t) => t.descriptor.manifest.name === "steps");
  server = await startServer({
    tools: [...fixtures.tools, ...steps, calculator, echo, monitorResources],
    authenticate: testAuthenticator,
  });
  server.server.pipeline.observe({
    callEnded: (call) => arrived.set(call.toolName, (arrived.get(call.toolName) ?? 0) + 1),
  });
});
afterAll(() => server.close());


describe.each(clientProtocolCases)("a client speaking $name", ({ options }) => {
  let client: ToolwireClient;
  beforeAll(() => {
    client = createToolwireClient(server.url, options);
  });
  afterAll(() => client.disconnect());

  it("connects, lists and describes the tools", async () => {
    await client.connect();
    expect(client.connected).toBe(true);
    const names = (await client.listTools()).map((t) => t.name);
    expect(names).toEqual(expect.arrayContaining(["calculator", "echo", "whoami", "steps"]));
    // Tools above public are not listed to an anonymous caller.
    expect(names).not.toContain("ops");
    const tool = await client.getTool("whoami");
    expect(tool.annotations?.idempotentHint).toBe(true);
    expect(tool.securityLevel).toBe(SecurityLevel.PUBLIC);
  });

  it("calls a tool with the typed client and with callTool", async () => {
    const sum = await client.tools.calculator({ operation: "add", a: 2, b: 40 });
    expect(sum.result).toBe(42);
    const res = await client.callTool("echo", { message: "hi", uppercase: true });
    expect(res.isError).toBe(false);
    expect(res.structuredContent).toEqual({ message: "HI" });
  });

  it("streams progress, partial content and logs, then the result, in order", async () => {
    const events: ToolStreamEvent[] = [];
    for await (const event of client.callToolStream("steps", { steps: 3 })) events.push(event);
    expect(events.map((e) => e.type)).toEqual(["log", "progress", "partial", "log", "progress", "partial", "log", "progress", "partial", "result"]);
    expect(events[1]).toEqual({ type: "progress", done: 1, total: 3, message: "step 1 of 3" });
    expect(events[2]).toEqual({ type: "partial", content: [{ type: "text", text: "part 1" }] });
    expect(events[0]).toEqual({ type: "log", level: "info", message: "step 1" });
    const last = events.at(-1);
    expect(last?.type === "result" && last.output).toEqual({ steps: 3 });
  });

  it("sends the deadline to the server, whose handler is aborted when it passes", async () => {
    const before = probe.calls.length;
    const started = Date.now();
    const err = await rejection(client.callTool("park", {}, { timeoutMs: 300 }));
    expect(err.code).toBe(Code.DeadlineExceeded);
    const call = probe.calls[before];
    expect(call?.tool).toBe("park");
    // The tool's own limit is 60 s: a deadline this close can only be the client's.
    expect(call?.deadline).toBeLessThan(started + 30_000);
    await expect.poll(() => call?.signal.aborted).toBe(true);
  });

  it("cancels the handler when the caller aborts the call", async () => {
    const before = probe.runs.get("park") ?? 0;
    const controller = new AbortController();
    const pending = rejection(client.callTool("park", {}, { signal: controller.signal }));
    await probe.started("park", before + 1);
    controller.abort();
    expect((await pending).code).toBe(Code.Canceled);
    const call = probe.calls.filter((c) => c.tool === "park").at(-1);
    await expect.poll(() => call?.signal.aborted).toBe(true);
  });

  it("reports the server healthy", async () => {
    const health = await client.healthCheck();
    expect(health).toMatchObject({ healthy: true, status: "serving" });
  });

  it("closes its connections on disconnect, and may connect again", async () => {
    await client.callTool("whoami");
    expect(await establishedConnections(server.port)).toBeGreaterThan(0);
    await client.disconnect();
    expect(client.connected).toBe(false);
    await expect.poll(() => establishedConnections(server.port)).toBe(0);
    // A disconnected client may connect again.
    await client.connect();
    expect((await client.callTool("whoami")).structuredContent).toEqual({ server: "main", caller: "anonymous" });
  });
});

describe("typed tool client", () => {
  it.each([clientProtocolCases[2], clientProtocolCases[6]])("streams a streaming tool as typed events ending in its output ($name)", async (c) => {
    const client = createToolwireClient(server.url, c?.options);
    try {
      const kinds = new Set<string>();
      let samples = 0;
      for await (const event of client.tools.monitor_resources({ duration: 1, interval: 0.5 })) {
        kinds.add(event.type);
        // The output is typed by the manifest: `samples` is a number, `peak` an object.
        if (event.type === "result") samples = event.output.samples + (event.output.peak.cpuPercent >= 0 ? 0 : 1);
      }
      expect(kinds).toEqual(new Set(["progress", "partial", "result"]));
      expect(samples).toBeGreaterThanOrEqual(2);
    } finally {
      await client.disconnect();
    }
  });

  it("rejects with ToolCallError carrying the tool's message when the tool fails", async () => {
    const client = createSimpleClient(server.url);
    try {
      const err = await client.tools.calculator({ operation: "divide", a: 1, b: 0 }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ToolCallError);
      expect((err as ToolCallError).message).toMatch(/zero/i);
      // callTool answers the same failure as a result, as MCP does.
      const res = await client.callTool("calculator", { operation: "divide", a: 1, b: 0 });
      expect(res.isError).toBe(true);
    } finally {
      await client.disconnect();
    }
  });
});

describe("credentials", () => {
  it("sends an API key as x-api-key", async () => {
    const client = createToolwireClient(server.url, { apiKey: "alice|authenticated" });
    try {
      expect((await client.callTool("members")).structuredContent).toEqual({ caller: "alice", level: "authenticated" });
      expect((await client.listTools()).map((t) => t.name)).toContain("members");
    } finally {
      await client.disconnect();
    }
  });

  it("asks the token provider for every call and sends a bearer token", async () => {
    let asked = 0;
    const client = createToolwireClient(server.url, {
      transport: "grpc",
      token: async () => `bob-${++asked}|authenticated`,
    });
    try {
      expect((await client.callTool("members")).structuredContent).toEqual({ caller: "bob-1", level: "authenticated" });
      expect((await client.callTool("members")).structuredContent).toEqual({ caller: "bob-2", level: "authenticated" });
    } finally {
      await client.disconnect();
    }
  });

  it("refuses to be given an API key and a token at once, which the server would refuse", () => {
    expect(() => createToolwireClient(server.url, { apiKey: "k", token: "t" })).toThrow("give the client an apiKey or a token, not both");
  });

  it("fails with unauthenticated, sending nothing, when the token provider throws", async () => {
    const client = createToolwireClient(server.url, {
      token: () => {
        throw new Error("identity provider is down");
      },
    });
    try {
      const before = arrived.get("members") ?? 0;
      const err = await rejection(client.callTool("members"));
      expect(err.code).toBe(Code.Unauthenticated);
      expect(err.rawMessage).toContain("identity provider is down");
      expect(arrived.get("members") ?? 0).toBe(before);
    } finally {
      await client.disconnect();
    }
  });
});

describe("allowedSecurityLevels", () => {
  it("refuses a call to a tool above the allowed levels before it is sent", async () => {
    const client = createToolwireClient(server.url, {
      apiKey: "root|admin",
      allowedSecurityLevels: ["public", "authenticated"],
    });
    try {
      const before = { arrived: arrived.get("ops") ?? 0, runs: probe.runs.get("ops") ?? 0 };
      const err = await rejection(client.callTool("ops"));
      expect(err.code).toBe(Code.PermissionDenied);
      expect(err.rawMessage).toBe(
        'tool "ops" is restricted; this client may only call public, authenticated tools (allowedSecurityLevels), so the call was not sent',
      );
      expect(err.findDetails(ErrorInfoSchema)[0]?.reason).toBe("SECURITY_LEVEL_NOT_ALLOWED");
      const stream = await rejection((async () => {
        for await (const _ of client.callToolStream("ops")) {
          // never reached
        }
      })());
      expect(stream.code).toBe(Code.PermissionDenied);
      // The pipeline sees every call that reaches the server, refused or not: none did.
      expect(arrived.get("ops") ?? 0).toBe(before.arrived);
      expect(probe.runs.get("ops") ?? 0).toBe(before.runs);
      // Tools at allowed levels still go through.
      expect((await client.callTool("members")).structuredContent).toEqual({ caller: "root", level: "admin" });
      // And the same client without the restriction would have run it.
      const unrestricted = createToolwireClient(server.url, { apiKey: "root|admin" });
      expect((await unrestricted.callTool("ops")).structuredContent).toEqual({ server: "main" });
      await unrestricted.disconnect();
    } finally {
      await client.disconnect();
    }
  });

  it("passes on the server's own refusal of a tool it does not show the caller, still without calling it", async () => {
    const client = createToolwireClient(server.url, { allowedSecurityLevels: ["public"] });
    try {
      const before = arrived.get("nope") ?? 0;
      expect((await rejection(client.callTool("nope"))).code).toBe(Code.NotFound);
      expect(arrived.get("nope") ?? 0).toBe(before);
    } finally {
      await client.disconnect();
    }
  });
});

describe("usage statistics", () => {
  it("counts calls, errors by code and latency percentiles per tool", async () => {
    const client = createToolwireClient(server.url);
    try {
      expect(client.getToolUsageStats("echo")).toBeUndefined();
      for (let i = 0; i < 5; i++) await client.callTool("echo", { message: `m${i}` });
      await client.tools.echo({ message: "typed calls count too" });
      await client.callTool("calculator", { operation: "divide", a: 1, b: 0 });
      await rejection(client.callTool("calculator", { operation: "divide", a: 1 }));
      await rejection(client.callTool("park", {}, { timeoutMs: 50 }));
      for await (const _ of client.callToolStream("steps", { steps: 1 })) {
        // drain
      }

      const echoStats = client.getToolUsageStats("echo");
      expect(echoStats).toMatchObject({ name: "echo", calls: 6, successes: 6, errors: 0, errorsByCode: {} });
      expect(echoStats?.latency.count).toBe(6);
      const { p50Ms, p95Ms, p99Ms, maxMs, meanMs } = echoStats?.latency ?? { p50Ms: -1, p95Ms: -1, p99Ms: -1, maxMs: -1, meanMs: -1 };
      expect(p50Ms).toBeGreaterThan(0);
      expect(p50Ms).toBeLessThanOrEqual(p95Ms);
      expect(p95Ms).toBeLessThanOrEqual(p99Ms);
      expect(p99Ms).toBeLessThanOrEqual(maxMs);
      expect(meanMs).toBeLessThanOrEqual(maxMs);

      expect(client.getToolUsageStats("calculator")).toMatchObject({
        calls: 2,
        successes: 0,
        errors: 2,
        errorsByCode: { invalid_argument: 1, tool_error: 1 },
      });
      expect(client.getToolUsageStats("park")).toMatchObject({ calls: 1, errorsByCode: { deadline_exceeded: 1 } });
      expect(client.getToolUsageStats("steps")).toMatchObject({ calls: 1, successes: 1 });
      expect(client.getUsageStats().map((s) => s.name)).toEqual(["calculator", "echo", "park", "steps"]);
    } finally {
      await client.disconnect();
    }
  });
});

describe("client factory", () => {
  it("createProductionClient sends a default deadline for unary calls", async () => {
    const client = createProductionClient(server.url, { timeoutMs: 200, retry: false });
    try {
      expect((await rejection(client.callTool("park"))).code).toBe(Code.DeadlineExceeded);
      // A per-call deadline wins over the default.
      const controller = new AbortController();
      const before = probe.runs.get("park") ?? 0;
      const pending = rejection(client.callTool("park", {}, { timeoutMs: 60_000, signal: controller.signal }));
      await probe.started("park", before + 1);
      await new Promise((r) => setTimeout(r, 400));
      controller.abort();
      expect((await pending).code).toBe(Code.Canceled);
    } finally {
      await client.disconnect();
    }
  });

  it("refuses gRPC over HTTP/1.1 with a message saying what to use instead", () => {
    expect(() => createToolwireClient(server.url, { transport: "grpc", httpVersion: "1.1" })).toThrow(/gRPC protocol needs HTTP\/2/);
  });

  it("refuses a URL that is not one, saying what it expects", () => {
    expect(() => createSimpleClient("localhost:8081")).toThrow(/not a server URL|must start with http/);
    expect(() => createSimpleClient("not a url")).toThrow('"not a url" is not a server URL; give one like http://127.0.0.1:8081');
  });

  it("reports an unknown tool as not_found", async () => {
    const client = createSimpleClient(server.url);
    try {
      expect((await rejection(client.getTool("no_such_tool"))).code).toBe(Code.NotFound);
    } finally {
      await client.disconnect();
    }
  });
});

describe("an unreachable server", () => {
  it("fails connect() with unavailable and reports unreachable health without throwing", async () => {
    const gone = await startServer({ tools: [echo] });
    await gone.close();
    const client = createToolwireClient(gone.url, { retry: { maxAttempts: 2, initialDelayMs: 10 } });
    try {
      const err = await rejection(client.connect());
      expect(err.code).toBe(Code.Unavailable);
      expect(client.connected).toBe(false);
      const health = await client.healthCheck();
      expect(health).toMatchObject({ healthy: false, status: "unreachable", code: "unavailable" });
    } finally {
      await client.disconnect();
    }
  });
});
