import { connect } from "node:net";
import { Code, ConnectError } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { toJsonString } from "@bufbuild/protobuf";
import { CallToolResponseSchema } from "../../gen/proto/toolwire/v1/tool_service_pb.js";
import { ArgumentViolationsSchema, ErrorInfoSchema, RetryInfoSchema } from "../../gen/proto/toolwire/v1/errors_pb.js";
import type { Authenticator } from "../../src/runtime/index.js";
import { anonymousPrincipal, isSecurityLevelName } from "../../src/security/index.js";
import { echo } from "../../src/tools/echo.js";
import { startServer, toolClient, type TestServer } from "../helpers/server.js";
import { createTestTools, type ToolProbe } from "../helpers/test-tools.js";

// Stands in for real authentication: "x-test-principal: <id>|<level>[|grant,grant]".
const headerAuthenticator: Authenticator = ({ headers }) => {
  const value = headers.get("x-test-principal");
  if (value === null) return anonymousPrincipal;
  const [id = "", level = "", grants = ""] = value.split("|");
  if (!isSecurityLevelName(level)) throw new ConnectError("bad test principal", Code.Unauthenticated);
  return { id, level, grants: grants === "" ? [] : grants.split(","), anonymous: false };
};

let server: TestServer;
let probe: ToolProbe;
beforeAll(async () => {
  const test = createTestTools();
  probe = test.probe;
  server = await startServer({ tools: [echo, ...test.tools], authenticate: headerAuthenticator });
});
afterAll(() => server.close());

function client(principal?: string) {
  return toolClient(
    server.url,
    createConnectTransport({
      baseUrl: server.url,
      httpVersion: "2",
      interceptors: principal === undefined ? [] : [(next) => (req) => (req.header.set("x-test-principal", principal), next(req))],
    }),
  );
}

async function failure(p: Promise<unknown>): Promise<ConnectError> {
  try {
    await p;
  } catch (err) {
    return ConnectError.from(err);
  }
  throw new Error("expected the call to fail");
}

describe("the error table", () => {
  it("answers not_found for an unknown tool", async () => {
    const err = await failure(client().callTool({ name: "nope" }));
    expect(err.code).toBe(Code.NotFound);
    expect(err.rawMessage).toBe('tool "nope" not found');
    expect(err.findDetails(ErrorInfoSchema)[0]?.reason).toBe("TOOL_NOT_FOUND");
  });

  it("answers not_found for an unknown version, listing the versions there are", async () => {
    const err = await failure(client().callTool({ name: "echo", version: "^2", arguments: { message: "x" } }));
    expect(err.code).toBe(Code.NotFound);
    expect(err.rawMessage).toBe('tool "echo" has no version matching "^2" (available: 1.0.0)');
  });

  it("answers invalid_argument listing every violation with pointer and keyword", async () => {
    const err = await failure(client().callTool({ name: "echo", arguments: { message: 42, loud: true } }));
    expect(err.code).toBe(Code.InvalidArgument);
    expect(err.rawMessage).toContain('invalid arguments for tool "echo"');
    expect(err.rawMessage).toContain("/message: must be string");
    const violations = err.findDetails(ArgumentViolationsSchema)[0]?.violations ?? [];
    expect(violations.map((v) => [v.pointer, v.keyword])).toEqual(
      expect.arrayContaining([
        ["/message", "type"],
        ["/loud", "additionalProperties"],
      ]),
    );
  });

  // Level and grant refusals (unauthenticated, permission_denied) are only told with
  // revealHiddenTools; by default a tool the caller may not list does not exist for it.
  it("answers not_found, word for word as for a missing tool, when an anonymous caller asks for a tool above public", async () => {
    const err = await failure(client().callTool({ name: "members" }));
    expect(err.code).toBe(Code.NotFound);
    expect(err.rawMessage).toBe('tool "members" not found');
    expect(err.findDetails(ErrorInfoSchema)[0]?.reason).toBe("TOOL_NOT_FOUND");
  });

  it("answers not_found when the caller's level is too low", async () => {
    const err = await failure(client("bob|authenticated").callTool({ name: "root" }));
    expect(err.code).toBe(Code.NotFound);
    expect(err.rawMessage).toBe('tool "root" not found');
  });

  it("answers not_found for a restricted tool without a grant, and runs it with one", async () => {
    const err = await failure(client("carol|restricted").callTool({ name: "ops" }));
    expect(err.code).toBe(Code.NotFound);
    expect(err.rawMessage).toBe('tool "ops" not found');
    const ok = await client("carol|restricted|category:ops").callTool({ name: "ops" });
    expect(ok.structuredContent).toEqual({ ok: true });
  });

  it("answers resource_exhausted with a retry-after detail once the rate limit is spent", async () => {
    const c = client("dave|public");
    for (let i = 0; i < 3; i++) await c.callTool({ name: "limited" });
    const err = await failure(c.callTool({ name: "limited" }));
    expect(err.code).toBe(Code.ResourceExhausted);
    expect(err.rawMessage).toMatch(/rate limit of tool "limited" reached: 3 calls per 60s .*; retry after \d+s/);
    const retry = err.findDetails(RetryInfoSchema)[0];
    expect(Number(retry?.retryDelay?.seconds ?? 0)).toBeGreaterThan(0);
  });

  it("answers deadline_exceeded when the tool times out, and aborts the handler's signal", async () => {
    const before = probe.signals.length;
    const err = await failure(client().callTool({ name: "slow" }));
    expect(err.code).toBe(Code.DeadlineExceeded);
    expect(err.rawMessage).toBe('tool "slow" timed out after 200 ms');
    expect(probe.signals[before]?.aborted).toBe(true);
  });

  it("answers deadline_exceeded when the client's deadline is shorter than the tool's", async () => {
    const before = probe.signals.length;
    const err = await failure(client().callTool({ name: "hang" }, { timeoutMs: 150 }));
    expect(err.code).toBe(Code.DeadlineExceeded);
    await expect.poll(() => probe.signals[before]?.aborted).toBe(true);
  });

  it("aborts the handler's signal when the client cancels", async () => {
    const controller = new AbortController();
    const before = probe.signals.length;
    const call = failure(client().callTool({ name: "hang" }, { signal: controller.signal }));
    const signal = await probe.started(before + 1);
    controller.abort();
    expect((await call).code).toBe(Code.Canceled);
    await expect.poll(() => signal.aborted).toBe(true);
    await expect.poll(() => server.server.pipeline.inFlight).toBe(0);
  });

  it("turns a thrown handler error into an is_error result that reveals nothing of it", async () => {
    const res = await client().callTool({ name: "boom" });
    expect(res.isError).toBe(true);
    const text = res.content[0]?.block.case === "text" ? res.content[0].block.value.text : "";
    expect(text).toBe(`tool "boom" failed with an unexpected error; the server log has the details (request ${res.requestId})`);
    const wire = toJsonString(CallToolResponseSchema, res);
    expect(wire).not.toContain("hunter2");
    expect(wire).not.toContain("secretFunction");
  });

  it("passes a ToolError's message through as an is_error result", async () => {
    const res = await client().callTool({ name: "refuse" });
    expect(res.isError).toBe(true);
    expect(res.content[0]?.block).toMatchObject({ case: "text", value: { text: "the tool says no" } });
  });
});

describe("shutdown", () => {
  it("answers unavailable to new calls while draining, and lets running calls finish", async () => {
    const own = await startServer({ tools: [echo, ...createTestTools().tools] });
    const c = toolClient(own.url, createConnectTransport({ baseUrl: own.url, httpVersion: "2" }));
    // An HTTP/1.1 keep-alive connection opened before shutdown (the port refuses new ones).
    const h1 = toolClient(own.url, createConnectTransport({ baseUrl: own.url, httpVersion: "1.1" }));
    await c.callTool({ name: "echo", arguments: { message: "warm" } });
    await h1.callTool({ name: "echo", arguments: { message: "warm" } });
    const running = c.callTool({ name: "slow", arguments: { ms: 150 } });
    await expect.poll(() => own.server.pipeline.inFlight).toBe(1);
    const closed = own.close(5_000);
    const err = await failure(h1.callTool({ name: "echo", arguments: { message: "late" } }));
    expect(err.code).toBe(Code.Unavailable);
    expect(err.rawMessage).toBe("server is shutting down; retry on another instance");
    // The busy HTTP/2 connection was sent GOAWAY at once and the port no longer accepts, so a
    // later call cannot connect: unavailable too. (One that crossed the GOAWAY on the wire would
    // be refused unprocessed, REFUSED_STREAM; the pause lets the client read the GOAWAY first.)
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect((await failure(c.callTool({ name: "echo", arguments: { message: "late" } }))).code).toBe(Code.Unavailable);
    expect((await running).structuredContent).toEqual({ sleptMs: 150 });
    await closed;
  });

  it("closes a trusted proxy's connection unanswered on a tool call that arrives while draining, so the proxy can retry it elsewhere", async () => {
    const test = createTestTools();
    const own = await startServer({ tools: [echo, ...test.tools], trustedProxies: ["127.0.0.1"] });
    const callEcho = (message: string) => {
      const body = JSON.stringify({ name: "echo", arguments: { message } });
      return `POST /toolwire.v1.ToolService/CallTool HTTP/1.1\r\nHost: 127.0.0.1:${own.port}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;
    };
    // The proxy's pooled keep-alive connection, opened and used before the drain.
    const socket = connect(own.port, "127.0.0.1");
    socket.on("error", () => {
      // A reset is as good as a close here; what matters is that nothing was answered.
    });
    let received = "";
    socket.on("data", (chunk: Buffer) => (received += chunk.toString()));
    const socketClosed = new Promise<void>((resolve) => socket.once("close", () => resolve()));
    socket.write(callEcho("warm"));
    await expect.poll(() => received).toContain("warm");
    received = "";

    // A running call keeps the server draining, so the close below is not the final one.
    const abort = new AbortController();
    const hanging = toolClient(own.url, createConnectTransport({ baseUrl: own.url, httpVersion: "2" }))
      .callTool({ name: "hang" }, { signal: abort.signal })
      .catch(() => undefined);
    await test.probe.started(1);
    const closed = own.close(60_000);
    socket.write(callEcho("late"));
    await socketClosed;
    expect(received).toBe("");
    expect(own.server.pipeline.inFlight).toBe(1);
    abort.abort();
    await hanging;
    await closed;
  });
});
