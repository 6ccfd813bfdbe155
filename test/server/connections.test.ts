import { Agent, request } from "node:http";
import { connect as connectHttp2 } from "node:http2";
import { connect } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { echo } from "../../src/tools/echo.js";
import { createTestTools } from "../helpers/test-tools.js";
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

describe("shutdown and new connections", () => {
  it("stops accepting connections at once while a running call finishes, and close() is idempotent", async () => {
    const test = createTestTools();
    const own = await startServer({ tools: [echo, ...test.tools] });
    const running = fetch(`${own.url}/toolwire.v1.ToolService/CallTool`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ name: "slow", arguments: { ms: 200 } }),
    });
    await test.probe.started(1);
    const closed = own.close(5_000);
    expect(own.close(5_000)).toBe(closed);
    // A balancer's connect is refused before it sends anything, so it can retry elsewhere.
    const refused = await new Promise<string | undefined>((resolve) => {
      const socket = connect(own.port, "127.0.0.1");
      socket.once("connect", () => resolve(undefined));
      socket.once("error", (err: NodeJS.ErrnoException) => resolve(err.code));
    });
    expect(refused).toBe("ECONNREFUSED");
    expect((await running).status).toBe(200);
    await closed;
  });

  it("serves an HTTP/2 request sent on an idle connection as the drain begins (as nginx may on a pooled connection), then sends GOAWAY", async () => {
    const own = await startServer({ tools: [echo] });
    const session = connectHttp2(own.url);
    try {
      const goaway = new Promise<number>((resolve) => session.once("goaway", (_code: number, lastStreamId: number) => resolve(lastStreamId)));
      const warm = session.request({ ":path": "/health" });
      warm.resume();
      await new Promise((resolve) => warm.once("close", resolve));
      // The request leaves before the client can read anything the draining server sends.
      const closed = own.close(5_000);
      const req = session.request({ ":method": "POST", ":path": "/toolwire.v1.ToolService/CallTool", "content-type": "application/json" });
      req.end(JSON.stringify({ name: "echo", arguments: { message: "just in time" } }));
      let status = 0;
      let body = "";
      req.once("response", (headers) => (status = Number(headers[":status"])));
      req.setEncoding("utf8");
      req.on("data", (chunk: string) => (body += chunk));
      await new Promise((resolve) => req.once("close", resolve));
      expect(status).toBe(200);
      expect(body).toContain("just in time");
      // The final GOAWAY names the last request served, so the client knows nothing was dropped.
      expect(await goaway).toBe(req.id);
      await closed;
    } finally {
      session.destroy();
    }
  });

  it("closes a drained HTTP/2 connection only after its peer has closed its side, as nginx may still owe a frame", async () => {
    const own = await startServer({ tools: [echo] });
    // A bare HTTP/2 peer, like nginx's grpc_pass: it closes only when it is done, sending no GOAWAY.
    const peer = connect(own.port, "127.0.0.1");
    await new Promise((resolve) => peer.once("connect", resolve));
    const frameTypes: number[] = [];
    let pending = Buffer.alloc(0);
    let serverEnded = false;
    peer.on("end", () => (serverEnded = true));
    peer.on("data", (chunk: Buffer) => {
      pending = Buffer.concat([pending, chunk]);
      while (pending.length >= 9 && pending.length >= 9 + pending.readUIntBE(0, 3)) {
        frameTypes.push(pending[3] as number);
        pending = pending.subarray(9 + pending.readUIntBE(0, 3));
      }
    });
    const authority = Buffer.from(`127.0.0.1:${own.port}`);
    // GET /health: :method GET, :scheme http (static table), :path and :authority as literals.
    const block = Buffer.concat([Buffer.from([0x82, 0x86, 0x04, 7]), Buffer.from("/health"), Buffer.from([0x01, authority.length]), authority]);
    const frame = (type: number, flags: number, stream: number, payload: Buffer) => {
      const header = Buffer.alloc(9);
      header.writeUIntBE(payload.length, 0, 3);
      header[3] = type;
      header[4] = flags;
      header.writeUInt32BE(stream, 5);
      return Buffer.concat([header, payload]);
    };
    peer.write(Buffer.concat([Buffer.from("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"), frame(0x4, 0, 0, Buffer.alloc(0))]));
    const settingsFrame = 0x4;
    await expect.poll(() => frameTypes.includes(settingsFrame), { timeout: 5_000 }).toBe(true);
    const closed = own.close(5_000);
    // Sent as the drain begins: served, then the connection is told to go away.
    peer.write(frame(0x1, 0x5, 1, block));
    const goAwayFrame = 0x7;
    const headersFrame = 0x1;
    await expect.poll(() => frameTypes.includes(goAwayFrame) && frameTypes.includes(headersFrame), { timeout: 5_000 }).toBe(true);
    // Everything is answered, and the server still waits for the peer to close first.
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(serverEnded).toBe(false);
    peer.end();
    await new Promise((resolve) => peer.once("close", resolve));
    expect(serverEnded).toBe(true);
    await closed;
  });
});
