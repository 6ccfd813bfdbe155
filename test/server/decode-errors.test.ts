import { connect as http2Connect } from "node:http2";
import type { JsonObject } from "@bufbuild/protobuf";
import { Code, ConnectError, createClient, type ConnectRouter } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport, createGrpcWebTransport } from "@connectrpc/connect-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Health } from "../../gen/proto/grpc/health/v1/health_pb.js";
import { echo } from "../../src/tools/echo.js";
import { startServer, toolClient, type TestServer } from "../helpers/server.js";

// A service whose implementation fails with connect-es's own decode wording: that is the
// implementation's error, not the caller's, and must stay internal.
const ownError = () => new ConnectError("parse binary: premature EOF", Code.Internal);
const failingHealth = () => ({
  services: [Health],
  routes: (router: ConnectRouter) =>
    router.service(Health, {
      check() {
        throw ownError();
      },
      list() {
        throw ownError();
      },
      async *watch() {
        yield* [];
        throw ownError();
      },
    }),
});

let server: TestServer;
beforeAll(async () => {
  server = await startServer({ tools: [echo], extensions: [failingHealth] });
});
afterAll(() => server.close());

const callTool = "/toolwire.v1.ToolService/CallTool";
const callToolStream = "/toolwire.v1.ToolService/CallToolStream";
/** `printf no`: field 13 with wire type 6, which does not exist. */
const garbage = new TextEncoder().encode("no");
/** Field 1 (name) promising 5 bytes and giving 1. */
const truncated = new Uint8Array([0x0a, 0x05, 0x61]);

function envelope(data: Uint8Array, flags = 0): Uint8Array {
  const bytes = new Uint8Array(5 + data.byteLength);
  new DataView(bytes.buffer).setUint32(1, data.byteLength);
  bytes[0] = flags;
  bytes.set(data, 5);
  return bytes;
}

/** The enveloped frames of a streaming answer. */
function frames(body: Uint8Array): Array<{ flags: number; data: Uint8Array }> {
  const out: Array<{ flags: number; data: Uint8Array }> = [];
  for (let at = 0; at + 5 <= body.byteLength; ) {
    const length = new DataView(body.buffer, body.byteOffset + at + 1, 4).getUint32(0);
    out.push({ flags: body[at]!, data: body.subarray(at + 5, at + 5 + length) });
    at += 5 + length;
  }
  return out;
}

async function connectStream(body: Uint8Array) {
  const res = await fetch(`${server.url}${callToolStream}`, { method: "POST", headers: { "content-type": "application/connect+proto" }, body });
  const end = frames(new Uint8Array(await res.arrayBuffer())).find((f) => f.flags & 0x02);
  return { status: res.status, error: (JSON.parse(new TextDecoder().decode(end?.data)) as { error?: { code: string; message: string } }).error };
}

async function grpcWeb(path: string, body: Uint8Array) {
  const res = await fetch(`${server.url}${path}`, { method: "POST", headers: { "content-type": "application/grpc-web+proto" }, body });
  const trailer = frames(new Uint8Array(await res.arrayBuffer())).find((f) => f.flags & 0x80);
  const fields = new Map(
    new TextDecoder()
      .decode(trailer?.data)
      .split("\r\n")
      .filter(Boolean)
      .map((line) => [line.slice(0, line.indexOf(":")), line.slice(line.indexOf(":") + 1).trim()] as const),
  );
  return { status: fields.get("grpc-status"), message: decodeURIComponent(fields.get("grpc-message") ?? "") };
}

/** A gRPC call over a raw HTTP/2 stream: grpc-status and grpc-message from trailers or trailers-only headers. */
function grpc(path: string, body: Uint8Array, headers: Record<string, string> = {}): Promise<{ status?: string; message: string }> {
  return new Promise((resolve, reject) => {
    const session = http2Connect(server.url);
    session.on("error", reject);
    const stream = session.request({ ":method": "POST", ":path": path, "content-type": "application/grpc", te: "trailers", ...headers });
    let fields: Record<string, unknown> = {};
    stream.on("response", (headers) => (fields = { ...headers }));
    stream.on("trailers", (trailers) => (fields = { ...fields, ...trailers }));
    stream.on("data", () => undefined);
    stream.on("error", reject);
    stream.on("close", () => {
      session.close();
      resolve({ status: fields["grpc-status"] as string | undefined, message: decodeURIComponent(String(fields["grpc-message"] ?? "")) });
    });
    stream.end(body);
  });
}

function nested(depth: number): JsonObject {
  let value: JsonObject = { leaf: 1 };
  for (let i = 0; i < depth; i++) value = { a: value };
  return value;
}

const binaryClients = [
  { name: "Connect binary", transport: (baseUrl: string) => createConnectTransport({ baseUrl, httpVersion: "1.1", useBinaryFormat: true }) },
  { name: "gRPC", transport: (baseUrl: string) => createGrpcTransport({ baseUrl }) },
  { name: "gRPC-Web", transport: (baseUrl: string) => createGrpcWebTransport({ baseUrl, httpVersion: "1.1" }) },
];

async function failure(call: () => Promise<unknown>): Promise<ConnectError | undefined> {
  return call().then(
    () => undefined,
    (e: unknown) => ConnectError.from(e),
  );
}

describe("a request body that cannot be decoded is the caller's mistake", () => {
  it("answers garbage Connect binary with 400 invalid_argument, naming the message type and the reason", async () => {
    const res = await fetch(`${server.url}${callTool}`, { method: "POST", headers: { "content-type": "application/proto" }, body: truncated });
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({
      code: "invalid_argument",
      message: "the request body is not a valid toolwire.v1.CallToolRequest in application/proto: premature EOF",
    });
  });

  it("answers garbage in a Connect stream with an invalid_argument end-stream message", async () => {
    const res = await connectStream(envelope(garbage));
    expect(res.status).toBe(200);
    expect(res.error).toEqual({
      code: "invalid_argument",
      message: "the request body is not a valid toolwire.v1.CallToolStreamRequest in application/connect+proto: illegal tag: field no 13 wire type 6",
    });
  });

  it("answers garbage over gRPC with status 3", async () => {
    expect(await grpc(callTool, envelope(garbage))).toEqual({
      status: "3",
      message: "the request body is not a valid toolwire.v1.CallToolRequest in application/grpc: illegal tag: field no 13 wire type 6",
    });
    expect((await grpc(callToolStream, envelope(truncated))).status).toBe("3");
  });

  it("answers garbage over gRPC-Web with status 3 in the trailer frame", async () => {
    expect(await grpcWeb(callTool, envelope(garbage))).toEqual({
      status: "3",
      message: "the request body is not a valid toolwire.v1.CallToolRequest in application/grpc-web+proto: illegal tag: field no 13 wire type 6",
    });
    expect((await grpcWeb(callToolStream, envelope(truncated))).status).toBe("3");
  });

  describe.each(binaryClients)("a Value nested past the decoder's limit over $name", ({ transport }) => {
    const request = { name: "echo", arguments: { message: "deep", n: nested(150) } };
    const reason = "cannot decode message google.protobuf.Value from binary: maximum recursion depth of 100 reached";

    it("is refused with invalid_argument on CallTool", async () => {
      const err = await failure(() => toolClient(server.url, transport(server.url)).callTool(request));
      expect(err?.code).toBe(Code.InvalidArgument);
      expect(err?.rawMessage).toMatch(/^the request body is not a valid toolwire\.v1\.CallToolRequest in application\/[a-z+-]+: /);
      expect(err?.rawMessage).toContain(reason);
    });

    it("is refused with invalid_argument on CallToolStream", async () => {
      const err = await failure(async () => {
        for await (const _ of toolClient(server.url, transport(server.url)).callToolStream(request));
      });
      expect(err?.code).toBe(Code.InvalidArgument);
      expect(err?.rawMessage).toContain(reason);
    });
  });

  it("answers a compressed envelope without an encoding header with invalid_argument in every enveloped protocol", async () => {
    const flagged = envelope(new Uint8Array([0x0a, 0x01, 0x61]), 1);
    const expected = { status: "3", message: "a request message is flagged compressed, but the request has no grpc-encoding header" };
    expect(await grpc(callTool, flagged)).toEqual(expected);
    expect(await grpcWeb(callTool, flagged)).toEqual(expected);
    expect(await grpcWeb(callToolStream, flagged)).toEqual(expected);
    expect((await connectStream(flagged)).error).toEqual({
      code: "invalid_argument",
      message: "a request message is flagged compressed, but the request has no connect-content-encoding header",
    });
  });
  it("answers a body the named compression cannot undo with invalid_argument", async () => {
    // Found by the fuzzer: zlib fails on these bytes with an error connect-node does not classify.
    const brotliGarbage = new Uint8Array([0x30, 0x02]);
    const res = await fetch(`${server.url}${callTool}`, {
      method: "POST",
      headers: { "content-type": "application/proto", "content-encoding": "br" },
      body: brotliGarbage,
    });
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({ code: "invalid_argument", message: "the request body cannot be decompressed with content-encoding: br" });
    expect(await grpc(callTool, envelope(brotliGarbage, 1), { "grpc-encoding": "br" })).toEqual({
      status: "3",
      message: "the request body cannot be decompressed with grpc-encoding: br",
    });
  });
});

describe.each(binaryClients)("an implementation's own internal error over $name", ({ transport }) => {
  const health = () => createClient(Health, transport(server.url));

  it("stays internal on a unary method, even worded like a decode failure", async () => {
    const err = await failure(() => health().check({}));
    expect(err?.code).toBe(Code.Internal);
    expect(err?.rawMessage).toBe("parse binary: premature EOF");
  });

  it("stays internal on a streaming method", async () => {
    const err = await failure(async () => {
      for await (const _ of health().watch({}));
    });
    expect(err?.code).toBe(Code.Internal);
    expect(err?.rawMessage).toBe("parse binary: premature EOF");
  });
});
