import { request } from "node:http";
import { connect as connectHttp2, constants } from "node:http2";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ToolService } from "../../gen/proto/toolwire/v1/tool_service_pb.js";
import { defineTool } from "../../src/registry/index.js";
import { echo } from "../../src/tools/echo.js";
import { protocolCases, startServer, type TestServer } from "../helpers/server.js";

const sleeper = defineTool(
  { name: "sleeper", version: "1.0.0", description: "sleeps", timeoutMs: 60_000, input: { type: "object", properties: { ms: { type: "integer" } } } },
  async (input, ctx) => {
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, (input.ms as number | undefined) ?? 300);
      ctx.signal.addEventListener("abort", () => (clearTimeout(timer), resolve()), { once: true });
    });
    return { slept: true };
  },
);
const ticker = defineTool(
  { name: "ticker", version: "1.0.0", description: "ticks until stopped", streaming: true, timeoutMs: 600_000, input: { type: "object" } },
  async (_input, ctx) => {
    for (let i = 1; !ctx.signal.aborted; i++) {
      ctx.progress(i, undefined, `tick ${i}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    throw ctx.signal.reason;
  },
);

let server: TestServer;
beforeAll(async () => {
  server = await startServer({
    tools: [echo, sleeper, ticker],
    maxBodyBytes: 4096,
    maxHeaderBytes: 4096,
    defaultMaxConcurrency: 2,
    maxStreamDurationMs: 600,
    idleTimeoutMs: 400,
    maxConcurrentStreams: 4,
  });
});
afterAll(() => server.close());

const client = () => createClient(ToolService, protocolCases[0]!.transport(server.url));

describe("limits against abuse", () => {
  it("refuses a request message over the body cap with resource_exhausted", async () => {
    const err = await client()
      .callTool({ name: "echo", arguments: { message: "x".repeat(8000) } })
      .catch((e: unknown) => ConnectError.from(e));
    expect((err as ConnectError).code).toBe(Code.ResourceExhausted);
    expect((err as ConnectError).rawMessage).toMatch(/4096/);
  });

  it("answers 431 to HTTP/1.1 request headers over the cap, and keeps serving", async () => {
    const status = await new Promise<number | undefined>((resolve, reject) => {
      const req = request(`${server.url}/health`, { headers: { "x-padding": "p".repeat(6000) } }, (res) => {
        res.resume();
        resolve(res.statusCode);
      });
      req.on("error", reject);
      req.end();
    });
    expect(status).toBe(431);
    expect((await fetch(`${server.url}/health`)).status).toBe(200);
  });

  it("refuses HTTP/2 request headers over the cap, and keeps serving", async () => {
    const session = connectHttp2(server.url);
    session.on("error", () => {});
    const outcome = await new Promise<string>((resolve) => {
      const stream = session.request({ ":path": "/health", "x-padding": "p".repeat(6000) });
      stream.on("response", (headers) => resolve(`status ${headers[":status"]}`));
      stream.on("error", (err: NodeJS.ErrnoException) => resolve(`error ${err.code ?? err.message}`));
      stream.on("close", () => resolve(`closed ${stream.rstCode}`));
      stream.end();
    });
    session.destroy();
    expect(outcome).toBe("status 431");
    expect((await fetch(`${server.url}/health`)).status).toBe(200);
  });

  it("caps concurrent calls of a tool whose manifest sets none at the configured default", async () => {
    const c = client();
    const calls = [1, 2, 3].map(() => c.callTool({ name: "sleeper", arguments: { ms: 1500 } }).then(
      () => "ok",
      (e: unknown) => ConnectError.from(e),
    ));
    const results = await Promise.all(calls);
    const refused = results.filter((r): r is ConnectError => r instanceof ConnectError);
    expect(results.filter((r) => r === "ok").length).toBe(2);
    expect(refused.map((e) => e.code)).toEqual([Code.ResourceExhausted]);
    expect(refused[0]?.rawMessage).toContain("maximum of 2 calls");
  });

  it("ends a stream at the maximum stream duration with deadline_exceeded", async () => {
    const messages: string[] = [];
    let failure: ConnectError | undefined;
    try {
      for await (const msg of client().callToolStream({ name: "ticker" })) messages.push(msg.event.case ?? "");
    } catch (err) {
      failure = ConnectError.from(err);
    }
    expect(messages.filter((m) => m === "progress").length, failure?.message).toBeGreaterThan(2);
    expect(failure?.code).toBe(Code.DeadlineExceeded);
    expect(failure?.rawMessage).toContain("maximum stream duration (600 ms)");
  });

  it("closes an idle HTTP/2 session after the idle timeout", async () => {
    const session = connectHttp2(server.url);
    const closed = new Promise<number>((resolve) => {
      session.on("goaway", (code) => resolve(code));
      session.on("close", () => resolve(-1));
    });
    await new Promise<void>((resolve) => session.once("connect", () => resolve()));
    const code = await closed;
    session.destroy();
    expect([constants.NGHTTP2_NO_ERROR, -1]).toContain(code);
  });

  it("tells HTTP/2 clients how many streams they may open", async () => {
    const session = connectHttp2(server.url);
    const settings = await new Promise<{ maxConcurrentStreams?: number }>((resolve) => session.once("remoteSettings", resolve));
    session.destroy();
    expect(settings.maxConcurrentStreams).toBe(4);
  });
});
