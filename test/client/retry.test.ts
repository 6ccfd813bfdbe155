import { Code } from "@connectrpc/connect";
import { afterEach, describe, expect, it } from "vitest";
import { createToolwireClient, type ToolStreamEvent, type ToolwireClient, type ToolwireClientOptions } from "../../src/client/index.js";
import { startServer, type TestServer } from "../helpers/server.js";
import { clientProtocolCases, createClientTestTools, createRecordingLogger, rejection, type ClientProbe } from "./client-fixtures.js";

/** Servers and clients a test started; stopped after it whatever happened. */
const servers: TestServer[] = [];
const clients: ToolwireClient[] = [];
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.disconnect()));
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

interface Started {
  readonly server: TestServer;
  readonly probe: ClientProbe;
  /** Request headers of every call that reached the server. */
  readonly headers: Headers[];
}

async function serve(name: string, port = 0, hold = true): Promise<Started> {
  const { tools, probe } = createClientTestTools(name, { hold });
  const server = await startServer({ tools, port });
  servers.push(server);
  const headers: Headers[] = [];
  server.server.pipeline.observe({ callEnded: (call) => headers.push(call.caller.headers) });
  return { server, probe, headers };
}

function client(url: string, options: ToolwireClientOptions = {}) {
  const logger = createRecordingLogger();
  const c = createToolwireClient(url, {
    retry: { maxAttempts: 100, initialDelayMs: 20, maxDelayMs: 100 },
    logger,
    ...options,
  });
  clients.push(c);
  const retries = (method: string) => logger.entries.filter((e) => e.message === "retrying call" && e.fields.method === method).length;
  return { client: c, logger, retries };
}


describe.each(clientProtocolCases)("retries over $name", ({ options }) => {
  it("retries listings and idempotent tool calls until a stopped server is back on its port", async () => {
    const a = await serve("a");
    const { client: c, retries } = client(a.server.url, options);
    await c.connect();
    await a.server.close();

    const listing = c.listTools();
    const call = c.callTool("whoami");
    await expect.poll(() => retries("toolwire.v1.ToolService/ListTools"), { timeout: 10_000 }).toBeGreaterThan(0);
    await expect.poll(() => retries("toolwire.v1.ToolService/CallTool"), { timeout: 10_000 }).toBeGreaterThan(0);
    await serve("b", a.server.port);

    expect((await listing).map((t) => t.name)).toContain("whoami");
    expect((await call).structuredContent).toEqual({ server: "b", caller: "anonymous" });
  });
});

describe("retry safety", () => {
  it("never sends a call to a tool that is not idempotent twice", async () => {
    const a = await serve("a");
    const { client: c, retries } = client(a.server.url);
    const call = rejection(c.callTool("bump", { holdMs: 30_000 }));
    await a.probe.started("bump", 1);
    // Stopping the server aborts the running call: it ran, so sending it again would run it twice.
    await a.server.close(0);
    const b = await serve("b", a.server.port, false);
    const err = await call;
    // Give a (wrong) retry every chance to reach the new server before looking.
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(err.code).toBe(Code.Unavailable);
    expect(retries("toolwire.v1.ToolService/CallTool")).toBe(0);
    expect(b.probe.runs.get("bump") ?? 0).toBe(0);
  });

  it("sends any call again when its connection was refused, since it never reached a server", async () => {
    const a = await serve("a");
    const { client: c, retries } = client(a.server.url);
    // The first call also learns the tool's manifest, so the next one is a lone CallTool.
    expect((await c.callTool("bump")).structuredContent).toEqual({ server: "a" });
    await a.server.close(0);
    const call = c.callTool("bump");
    await expect.poll(() => retries("toolwire.v1.ToolService/CallTool"), { timeout: 10_000 }).toBeGreaterThan(0);
    const b = await serve("b", a.server.port, false);
    expect((await call).structuredContent).toEqual({ server: "b" });
    expect(a.probe.runs.get("bump")).toBe(1);
    expect(b.probe.runs.get("bump")).toBe(1);
  });

  it("sends a call to an idempotent tool again after the server stopped in the middle of it", async () => {
    const a = await serve("a");
    const { client: c, retries } = client(a.server.url);
    const call = c.callTool("bump_idempotent", { holdMs: 30_000 });
    await a.probe.started("bump_idempotent", 1);
    await a.server.close(0);
    await expect.poll(() => retries("toolwire.v1.ToolService/CallTool"), { timeout: 10_000 }).toBeGreaterThan(0);
    const b = await serve("b", a.server.port, false);
    expect((await call).structuredContent).toEqual({ server: "b" });
    expect(a.probe.runs.get("bump_idempotent")).toBe(1);
    expect(b.probe.runs.get("bump_idempotent")).toBe(1);
  });

  it("retries a call that is not idempotent when the caller gives an idempotency key, which reaches the server", async () => {
    const a = await serve("a");
    const { client: c, retries } = client(a.server.url);
    const call = c.callTool("bump", { holdMs: 30_000 }, { idempotencyKey: "order-42" });
    await a.probe.started("bump", 1);
    await a.server.close(0);
    await expect.poll(() => retries("toolwire.v1.ToolService/CallTool"), { timeout: 10_000 }).toBeGreaterThan(0);
    const b = await serve("b", a.server.port, false);
    expect((await call).structuredContent).toEqual({ server: "b" });
    expect(b.headers.map((h) => h.get("idempotency-key"))).toEqual(["order-42"]);
  });

  it("does not retry errors the server meant, such as invalid arguments", async () => {
    const a = await serve("a");
    const { client: c, retries } = client(a.server.url);
    const err = await rejection(c.callTool("whoami", { unexpected: true }));
    expect(err.code).toBe(Code.InvalidArgument);
    expect(retries("toolwire.v1.ToolService/CallTool")).toBe(0);
    expect(a.headers).toHaveLength(1);
  });

  it("retries a stream that failed before its first message", async () => {
    const a = await serve("a");
    const { client: c, retries } = client(a.server.url);
    await c.connect();
    await a.server.close();
    const events: ToolStreamEvent[] = [];
    const done = (async () => {
      for await (const event of c.callToolStream("ticks")) events.push(event);
    })();
    await expect.poll(() => retries("toolwire.v1.ToolService/CallToolStream"), { timeout: 10_000 }).toBeGreaterThan(0);
    const b = await serve("b", a.server.port);
    await done;
    expect(events.map((e) => e.type)).toEqual(["progress", "progress", "result"]);
    expect(events.at(-1)).toMatchObject({ type: "result", output: { server: "b" } });
    expect(b.probe.runs.get("ticks")).toBe(1);
  });
});

describe("deadlines and cancellation across retries", () => {
  it("sends each retry the time left of the caller's deadline, not a fresh one", async () => {
    const a = await serve("a");
    const { client: c, retries } = client(a.server.url);
    await c.connect();
    await a.server.close();
    const started = Date.now();
    const call = c.callTool("whoami", {}, { timeoutMs: 5_000 });
    // Let the retries eat well into the deadline before the server comes back.
    await expect.poll(() => Date.now() - started >= 1_500 && retries("toolwire.v1.ToolService/CallTool") > 0, { timeout: 10_000 }).toBe(true);
    const back = Date.now();
    const b = await serve("b", a.server.port);
    expect((await call).structuredContent).toMatchObject({ server: "b" });
    const deadline = b.probe.calls.find((x) => x.tool === "whoami")?.deadline ?? Number.POSITIVE_INFINITY;
    // The attempt that reached b left after b was back, so a fresh 5 s deadline would end after
    // back + 5 s; the caller's ends at started + 5 s, at least 1.5 s before that.
    expect(deadline).toBeLessThan(back + 5_000);
  });

  it("gives up with the last error once the deadline leaves no time for another attempt", async () => {
    const a = await serve("a");
    const { client: c, retries } = client(a.server.url, { retry: { maxAttempts: 1_000, initialDelayMs: 50, maxDelayMs: 50, jitter: 0 } });
    await c.connect();
    await a.server.close();
    const err = await rejection(c.listTools(undefined, { timeoutMs: 500 }));
    expect([Code.Unavailable, Code.DeadlineExceeded]).toContain(err.code);
    expect(retries("toolwire.v1.ToolService/ListTools")).toBeGreaterThan(0);
    expect(retries("toolwire.v1.ToolService/ListTools")).toBeLessThan(1_000);
  });

  it("stops waiting to retry as soon as the caller cancels", async () => {
    const a = await serve("a");
    const { client: c, retries } = client(a.server.url, { retry: { maxAttempts: 1_000, initialDelayMs: 60_000, maxDelayMs: 60_000 } });
    await c.connect();
    await a.server.close();
    const controller = new AbortController();
    const call = rejection(c.listTools(undefined, { signal: controller.signal }));
    await expect.poll(() => retries("toolwire.v1.ToolService/ListTools")).toBe(1);
    controller.abort();
    // The wait before the next attempt is a minute: only the abort can end the call this soon.
    expect((await call).code).toBe(Code.Canceled);
  });

  it("does not retry at all when retries are off", async () => {
    const a = await serve("a");
    const { client: c, retries } = client(a.server.url, { retry: false });
    await c.connect();
    await a.server.close();
    expect((await rejection(c.listTools())).code).toBe(Code.Unavailable);
    expect(retries("toolwire.v1.ToolService/ListTools")).toBe(0);
  });
});
