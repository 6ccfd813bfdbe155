import { connect as connectHttp2, constants as h2 } from "node:http2";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createMonitoring, type ServerExtensionFactory } from "../../src/server/index.js";
import { echo } from "../../src/tools/echo.js";
import { ToolService } from "../../gen/proto/toolwire/v1/tool_service_pb.js";
import { openSocket, rawRequest, readReply } from "../helpers/raw-http.js";
import { startServer, type TestServer } from "../helpers/server.js";

const failingRoutes: ServerExtensionFactory = () => ({
  httpRoutes: {
    "/throws": () => {
      throw new Error("route bug at /secret/path/route.ts:12");
    },
    "/rejects": async () => {
      await Promise.resolve();
      throw new Error("async route bug");
    },
    "/reads-body": async (req, res) => {
      for await (const _chunk of req) {
        // Reads until the client stops sending.
      }
      res.end("read");
    },
  },
});

const logLines: Array<Record<string, unknown>> = [];
let server: TestServer;
beforeAll(async () => {
  server = await startServer({
    tools: [echo],
    extensions: [createMonitoring(), failingRoutes],
    requestBodyTimeoutMs: 400,
    logger: pino({ level: "error" }, { write: (line: string) => logLines.push(JSON.parse(line) as Record<string, unknown>) }),
  });
});
afterAll(() => server.close());

async function healthy(): Promise<void> {
  const res = await fetch(`${server.url}/health`);
  expect(res.status).toBe(200);
}

describe("requests without a Host header", () => {
  it("serves an HTTP/1.0 ListTools POST with no headers beyond its content type, taking the authority from the local address", async () => {
    const reply = await rawRequest(
      server.port,
      "POST /toolwire.v1.ToolService/ListTools HTTP/1.0\r\ncontent-type: application/json\r\ncontent-length: 2\r\n\r\n{}",
    );
    expect(reply.status).toBe(200);
    expect(JSON.parse(reply.body)).toMatchObject({ tools: [expect.objectContaining({ name: "echo" })] });
    await healthy();
  });

  it("serves an HTTP/1.0 Connect GET with no headers at all", async () => {
    const reply = await rawRequest(server.port, "GET /toolwire.v1.ToolService/ListTools?encoding=json&message=%7B%7D HTTP/1.0\r\n\r\n");
    expect(reply.status).toBe(200);
    expect(reply.body).toContain('"echo"');
    await healthy();
  });

  it("serves the gRPC health service and /health over HTTP/1.0 with no Host", async () => {
    const check = await rawRequest(
      server.port,
      "POST /grpc.health.v1.Health/Check HTTP/1.0\r\ncontent-type: application/json\r\ncontent-length: 2\r\n\r\n{}",
    );
    expect(check.status).toBe(200);
    expect(JSON.parse(check.body)).toEqual({ status: "SERVING" });
    const health = await rawRequest(server.port, "GET /health HTTP/1.0\r\n\r\n");
    expect(health.status).toBe(200);
  });

  it("refuses a Host header that is no authority with invalid_argument, saying what is wrong", async () => {
    const reply = await rawRequest(
      server.port,
      "POST /toolwire.v1.ToolService/ListTools HTTP/1.1\r\nhost: exa%mple\r\ncontent-type: application/json\r\ncontent-length: 2\r\nconnection: close\r\n\r\n{}",
    );
    expect(reply.status).toBe(400);
    expect(JSON.parse(reply.body)).toEqual({ code: "invalid_argument", message: expect.stringContaining('the Host header "exa%mple" is not') });
    await healthy();
  });
});

describe("failures on a request path", () => {
  it("answers a route that throws with a logged 500 internal that shows no stack or path, and keeps serving", async () => {
    for (const path of ["/throws", "/rejects"]) {
      const res = await fetch(`${server.url}${path}`);
      expect(res.status).toBe(500);
      const body = await res.text();
      expect(JSON.parse(body)).toEqual({ code: "internal", message: "the server failed to answer this request; its log has the details" });
      expect(body).not.toMatch(/route\.ts|bug|at /);
    }
    await expect.poll(() => logLines.filter((line) => line.msg === "request failed").map((line) => line.path)).toEqual(["/throws", "/rejects"]);
    await healthy();
  });
});

describe("clients that go away", () => {
  it("logs no error when a client cuts a request whose body a route is reading", async () => {
    const socket = await openSocket(server.port);
    socket.write("POST /reads-body HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-length: 100\r\n\r\npartial");
    await new Promise((resolve) => setTimeout(resolve, 100));
    socket.destroy();
    await healthy();
    // The failed read has settled by the time a later request on another connection is answered.
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(logLines.filter((line) => line.path === "/reads-body")).toEqual([]);
  });
});

describe("request bodies that trickle in", () => {
  it("answers an HTTP/1.1 body that does not arrive in time with deadline_exceeded and closes the connection", async () => {
    const socket = await openSocket(server.port);
    const reply = await readReply(
      socket,
      "POST /toolwire.v1.ToolService/CallTool HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n{\"na",
      5_000,
    );
    expect(reply.status).toBe(408);
    expect(JSON.parse(reply.body)).toEqual({ code: "deadline_exceeded", message: expect.stringContaining("limits.requestBodyTimeoutMs") });
    expect(reply.closed).toBe(true);
  });

  it("answers an HTTP/2 Connect body that does not arrive in time with deadline_exceeded and ends the stream", async () => {
    const session = connectHttp2(server.url);
    try {
      const stream = session.request({ ":method": "POST", ":path": "/toolwire.v1.ToolService/CallTool", "content-type": "application/json" });
      stream.write('{"na');
      const [status, body] = await new Promise<[number, string]>((resolve) => {
        let text = "";
        let code = 0;
        stream.on("response", (headers) => (code = Number(headers[h2.HTTP2_HEADER_STATUS])));
        stream.setEncoding("utf8");
        stream.on("data", (chunk: string) => (text += chunk));
        stream.on("close", () => resolve([code, text]));
      });
      expect(status).toBe(408);
      expect(JSON.parse(body)).toMatchObject({ code: "deadline_exceeded" });
    } finally {
      session.destroy();
    }
  });

  it("answers a gRPC body that does not arrive in time with DEADLINE_EXCEEDED in grpc-status", async () => {
    const session = connectHttp2(server.url);
    try {
      const stream = session.request({ ":method": "POST", ":path": "/toolwire.v1.ToolService/CallTool", "content-type": "application/grpc", te: "trailers" });
      // A frame header promising 50 bytes, then only two of them.
      stream.write(Buffer.from([0, 0, 0, 0, 50, 10, 4]));
      const headers = await new Promise<Record<string, unknown>>((resolve) => stream.on("response", resolve));
      stream.resume();
      expect(headers[h2.HTTP2_HEADER_STATUS]).toBe(200);
      expect(headers["grpc-status"]).toBe(String(Code.DeadlineExceeded));
      expect(decodeURIComponent(String(headers["grpc-message"]))).toContain("did not arrive within 400 ms");
    } finally {
      session.destroy();
    }
  });
});

describe("the connection cap", () => {
  it("refuses requests on connections past limits.maxConnections with unavailable, and serves again once connections close", async () => {
    const capped = await startServer({ tools: [echo], maxConnections: 2 });
    const held = [await openSocket(capped.port), await openSocket(capped.port)];
    try {
      const reply = await rawRequest(
        capped.port,
        "POST /toolwire.v1.ToolService/ListTools HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: application/json\r\ncontent-length: 2\r\n\r\n{}",
      );
      expect(reply.status).toBe(503);
      expect(reply.headers["retry-after"]).toBe("1");
      expect(JSON.parse(reply.body)).toEqual({ code: "unavailable", message: expect.stringContaining("limit of 2 open connections (limits.maxConnections)") });
      expect(reply.closed).toBe(true);

      const grpc = createClient(ToolService, createGrpcTransport({ baseUrl: capped.url }));
      const refused = await grpc.listTools({}).then(
        () => undefined,
        (err: unknown) => ConnectError.from(err),
      );
      expect(refused?.code).toBe(Code.Unavailable);
      expect(refused?.rawMessage).toContain("limits.maxConnections");

      for (const socket of held) socket.destroy();
      await expect
        .poll(async () => (await rawRequest(capped.port, "GET /health HTTP/1.1\r\nhost: 127.0.0.1\r\nconnection: close\r\n\r\n")).status)
        .toBe(200);
    } finally {
      for (const socket of held) socket.destroy();
      await capped.close();
    }
  });
});

describe("Connect GET requests", () => {
  it("refuses a GET carrying a gRPC-Web content type in gRPC-Web's own form, saying gRPC calls are POSTs", async () => {
    const res = await fetch(`${server.url}/toolwire.v1.ToolService/ListTools?encoding=json&message=%7B`, {
      headers: { "content-type": "application/grpc-web+json" },
    });
    expect(res.headers.get("grpc-status")).toBe(String(Code.InvalidArgument));
    expect(decodeURIComponent(res.headers.get("grpc-message") ?? "")).toContain("gRPC, gRPC-Web and streaming calls are POSTs");
  });

  it("refuses a GET carrying a Connect streaming content type with a JSON 415", async () => {
    const res = await fetch(`${server.url}/toolwire.v1.ToolService/ListTools?encoding=json&message=%7B%7D`, {
      headers: { "content-type": "application/connect+proto" },
    });
    expect(res.status).toBe(415);
    expect(await res.json()).toEqual({ code: "invalid_argument", message: expect.stringContaining("streaming calls are POSTs") });
  });
});

describe("caching of Connect GET answers", () => {
  it("varies on the credential headers, and marks an answer to a caller with credentials private", async () => {
    const path = `${server.url}/toolwire.v1.ToolService/ListTools?encoding=json&message=%7B%7D`;
    const anonymous = await fetch(path);
    expect(anonymous.status).toBe(200);
    expect(anonymous.headers.get("vary")).toBe("Authorization, X-API-Key");
    expect(anonymous.headers.get("cache-control")).toBeNull();
    const keyed = await fetch(path, { headers: { "x-api-key": "tw_anything" } });
    expect(keyed.headers.get("vary")).toBe("Authorization, X-API-Key");
    expect(keyed.headers.get("cache-control")).toBe("private");
  });
});

describe("HTTP/2 streams that end early", () => {
  it("survives a request expecting 100-continue whose stream is reset before the server answers it", async () => {
    for (let i = 0; i < 20; i++) {
      const session = connectHttp2(server.url);
      const stream = session.request({
        ":method": "POST",
        ":path": "/toolwire.v1.ToolService/CallTool",
        "content-type": "application/json",
        expect: "100-continue",
      });
      stream.on("error", () => undefined);
      stream.close(h2.NGHTTP2_CANCEL);
      await new Promise((resolve) => stream.once("close", resolve));
      session.destroy();
    }
    await healthy();
  });
});
