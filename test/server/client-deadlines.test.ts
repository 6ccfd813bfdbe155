import { createGrpcTransport, createGrpcWebTransport } from "@connectrpc/connect-node";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { startServer, toolClient, type TestServer } from "../helpers/server.js";
import { createTestTools } from "../helpers/test-tools.js";

let server: TestServer;
beforeAll(async () => {
  server = await startServer({ tools: createTestTools().tools });
});
afterAll(() => server.close());

// Node warns, then fires a timer at once, when its delay is past 2^31-1 ms.
const warnings: Error[] = [];
const onWarning = (warning: Error) => warnings.push(warning);
beforeAll(() => void process.on("warning", onWarning));
afterAll(() => void process.off("warning", onWarning));
afterEach(() => {
  const overflows = warnings.splice(0).filter((w) => w.name === "TimeoutOverflowWarning");
  expect(overflows).toEqual([]);
});

// "slow" sleeps `ms`, within its own 200 ms limit: an overflowed deadline fires long before.
const request = { name: "slow", arguments: { ms: 50 } };

describe("a client deadline longer than Node's timers can hold", () => {
  it("runs a Connect call with connect-timeout-ms: 2147483648 within the tool's own limit", async () => {
    const res = await fetch(`${server.url}/toolwire.v1.ToolService/CallTool`, {
      method: "POST",
      headers: { "content-type": "application/json", "connect-timeout-ms": "2147483648" },
      body: JSON.stringify(request),
    });
    expect(await res.json()).toMatchObject({ structuredContent: { sleptMs: 50 } });
    expect(res.status).toBe(200);
  });

  it("runs a Connect call with the largest connect-timeout-ms there is (10 digits)", async () => {
    const res = await fetch(`${server.url}/toolwire.v1.ToolService/CallTool`, {
      method: "POST",
      headers: { "content-type": "application/json", "connect-timeout-ms": "9999999999" },
      body: JSON.stringify(request),
    });
    expect(res.status).toBe(200);
  });

  it("runs a gRPC call with grpc-timeout: 597H", async () => {
    const client = toolClient(server.url, createGrpcTransport({ baseUrl: server.url }));
    const res = await client.callTool(request, { headers: { "grpc-timeout": "597H" } });
    expect(res.isError).toBe(false);
    expect(res.structuredContent).toEqual({ sleptMs: 50 });
  });

  it("runs a gRPC-Web call with the largest grpc-timeout there is (99999999H)", async () => {
    const client = toolClient(server.url, createGrpcWebTransport({ baseUrl: server.url, httpVersion: "1.1" }));
    const res = await client.callTool(request, { headers: { "grpc-timeout": "99999999H" } });
    expect(res.isError).toBe(false);
  });

  it("still refuses a malformed deadline with invalid_argument", async () => {
    const res = await fetch(`${server.url}/toolwire.v1.ToolService/CallTool`, {
      method: "POST",
      headers: { "content-type": "application/json", "connect-timeout-ms": "12345678901" },
      body: JSON.stringify(request),
    });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ code: "invalid_argument" });
  });
});
