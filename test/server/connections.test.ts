import { Agent, request } from "node:http";
import { connect } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { echo } from "../../src/tools/echo.js";
import { startServer, type TestServer } from "../helpers/server.js";

let server: TestServer;
beforeAll(async () => {
  server = await startServer({ tools: [echo], headersTimeoutMs: 500 });
});
afterAll(() => server.close());

async function fetchJson(path: string, init: RequestInit = {}) {
  const res = await fetch(`${server.url}${path}`, init);
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: text === "" ? undefined : (JSON.parse(text) as { code: string; message: string }) };
}

describe("the HTTP front", () => {
  it("closes a connection that never finishes its headers", async () => {
    const socket = connect(server.port, "127.0.0.1");
    let received = "";
    socket.on("data", (d: Buffer) => (received += d.toString()));
    socket.write("POST /toolwire.v1.ToolService/CallTool HTTP/1.1\r\nHost: 127.0.0.1\r\n");
    await new Promise<void>((resolve) => socket.once("close", () => resolve()));
    expect(received).toMatch(/^HTTP\/1.1 408/);
  });

  it("refuses a JSON body in another charset than UTF-8, saying so", async () => {
    const res = await fetchJson("/toolwire.v1.ToolService/CallTool", {
      method: "POST",
      headers: { "content-type": "application/json; charset=latin1" },
      body: '{"name":"echo","arguments":{"message":"x"}}',
    });
    expect(res.status).toBe(415);
    expect(res.body?.message).toContain("send application/json (UTF-8)");
  });

  it("answers a GET of a method with side effects with 405 and says to POST", async () => {
    const res = await fetchJson("/toolwire.v1.ToolService/CallTool?encoding=json&message=%7B%7D");
    expect(res.status).toBe(405);
    expect(res.headers.get("allow")).toBe("POST");
    expect(res.body?.message).toBe("GET is not allowed for /toolwire.v1.ToolService/CallTool; use POST");
  });

  it("explains a Connect GET without an encoding", async () => {
    const res = await fetchJson("/toolwire.v1.ToolService/ListTools");
    expect(res.status).toBe(415);
    expect(res.body?.message).toContain("?encoding=json");
  });

  it("refuses a Connect GET whose base64 message is not base64", async () => {
    const res = await fetchJson("/toolwire.v1.ToolService/ListTools?encoding=json&base64=1&message=%%%");
    expect(res.status).toBe(400);
    expect(res.body).toEqual({ code: "invalid_argument", message: "the message parameter is not valid base64 (base64=1 was given)" });
  });

  it("answers other methods with 405 and the allowed ones", async () => {
    const res = await fetchJson("/toolwire.v1.ToolService/ListTools", { method: "DELETE" });
    expect(res.status).toBe(405);
    expect(res.headers.get("allow")).toBe("GET, POST");
  });
});

describe("shutdown with idle connections", () => {
  it("does not wait out the grace period for an idle keep-alive connection", async () => {
    const own = await startServer({ tools: [echo] });
    const agent = new Agent({ keepAlive: true });
    const socketClosed = new Promise<void>((resolve) => {
      const req = request(`${own.url}/health`, { agent }, (res) => {
        res.resume();
        res.on("end", () => req.socket?.once("close", () => resolve()));
      });
      req.end();
    });
    await new Promise((r) => setTimeout(r, 50));
    // A grace period far longer than the test's own timeout: only an early finish passes.
    await own.close(60_000);
    await socketClosed;
    agent.destroy();
  }, 15_000);
});
