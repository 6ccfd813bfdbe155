import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { echo } from "../../src/tools/echo.js";
import { startServer, type TestServer } from "../helpers/server.js";

let server: TestServer;
beforeAll(async () => {
  server = await startServer({ tools: [echo], maxBodyBytes: 256 * 1024 });
});
afterAll(() => server.close());
afterEach(async () => {
  // Whatever was thrown at it, the server must still answer.
  const health = await fetch(`${server.url}/health`);
  expect(health.status).toBe(200);
  expect(((await health.json()) as { status: string }).status).toBe("serving");
});

async function post(body: string | Uint8Array, contentType = "application/json") {
  const res = await fetch(`${server.url}/toolwire.v1.ToolService/CallTool`, {
    method: "POST",
    headers: { "content-type": contentType },
    body,
  });
  const text = await res.text();
  return { status: res.status, text, json: (): { code: string; message: string } => JSON.parse(text) };
}

function nested(depth: number): string {
  return `${'{"a":'.repeat(depth)}1${"}".repeat(depth)}`;
}

describe("bad input", () => {
  it("answers malformed JSON with invalid_argument", async () => {
    const res = await post('{"name": "echo", "arguments": {');
    expect(res.status).toBe(400);
    expect(res.json().code).toBe("invalid_argument");
    expect(res.json().message).toMatch(/^cannot decode message toolwire.v1.CallToolRequest from JSON/);
  });

  it("answers a wrong content type with 415 and says what is accepted", async () => {
    const res = await post('{"name":"echo"}', "text/plain");
    expect(res.status).toBe(415);
    expect(res.json().message).toContain('unsupported content-type "text/plain"');
    expect(res.json().message).toContain("application/json");
  });

  it("answers a content type with a parameter connect-node does not take with a 415 that says what is accepted", async () => {
    const json = await post("{}", "application/json; profile=x");
    expect(json.status).toBe(415);
    expect(json.json()).toMatchObject({ code: "invalid_argument", message: expect.stringContaining('unsupported content-type "application/json; profile=x"') });
    const res = await fetch(`${server.url}/toolwire.v1.ToolService/CallTool`, { method: "POST", headers: { "content-type": "application/grpc-web; x" }, body: new Uint8Array(5) });
    expect(res.headers.get("grpc-status")).toBe("3");
    expect(decodeURIComponent(res.headers.get("grpc-message") ?? "")).toContain("unsupported content-type");
  });

  it("answers a Connect streaming content type on a unary method with a JSON 415", async () => {
    // connect-node answers this mismatch with a bare 415 and no body.
    const res = await post(new Uint8Array([0, 0, 0, 0, 2, 0x7b, 0x7d]), "application/connect+json");
    expect(res.status).toBe(415);
    expect(res.json().code).toBe("invalid_argument");
    expect(res.json().message).toContain("application/json");
  });

  it("answers a Connect unary content type on a streaming method with a JSON 415", async () => {
    const res = await fetch(`${server.url}/toolwire.v1.ToolService/CallToolStream`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: '{"name":"echo"}',
    });
    const text = await res.text();
    expect(res.status).toBe(415);
    expect((JSON.parse(text) as { code: string; message: string }).message).toContain("application/connect+json");
  });

  it("refuses unknown request fields instead of ignoring them", async () => {
    const res = await post('{"name":"echo","argumnets":{"message":"typo"}}');
    expect(res.status).toBe(400);
    expect(res.json().code).toBe("invalid_argument");
    expect(res.json().message).toContain('key "argumnets" is unknown');
  });

  it("refuses a wrongly typed request field", async () => {
    const res = await post('{"name": 42}');
    expect(res.status).toBe(400);
    expect(res.json().message).toContain("toolwire.v1.CallToolRequest.name");
  });

  it("refuses arguments that are not an object", async () => {
    const res = await post('{"name":"echo","arguments":["message"]}');
    expect(res.status).toBe(400);
    expect(res.json().code).toBe("invalid_argument");
  });

  it("refuses a body over the cap with resource_exhausted", async () => {
    const res = await post(JSON.stringify({ name: "echo", arguments: { message: "x".repeat(300 * 1024) } }));
    expect(res.status).toBe(429);
    expect(res.json().code).toBe("resource_exhausted");
    expect(res.json().message).toContain("larger than configured readMaxBytes 262144");
  });

  it("refuses arguments nested deeper than the pipeline allows", async () => {
    const res = await post(`{"name":"echo","arguments":{"message":"x","n":${nested(40)}}}`);
    expect(res.status).toBe(400);
    expect(res.json().message).toBe('invalid arguments for tool "echo": (arguments): is nested deeper than 32 levels');
  });

  it("refuses arguments nested past the decoder's recursion limit", async () => {
    const res = await post(`{"name":"echo","arguments":{"n":${nested(5000)}}}`);
    expect(res.status).toBe(400);
    expect(res.json().message).toContain("maximum recursion depth");
  });

  it("refuses a huge string through the tool's schema, naming the limit", async () => {
    const res = await post(JSON.stringify({ name: "echo", arguments: { message: "x".repeat(150_000) } }));
    expect(res.status).toBe(400);
    expect(res.json().message).toBe('invalid arguments for tool "echo": /message: must NOT have more than 100000 characters');
  }, 10_000);

  it("refuses garbage bytes sent as protobuf with invalid_argument and a message saying why", async () => {
    const res = await post(new Uint8Array([0xff, 0xff, 0xff, 0xff, 0x0f, 0x01, 0x02]), "application/proto");
    expect(res.status).toBe(400);
    expect(res.json()).toEqual({
      code: "invalid_argument",
      message: "the request body is not a valid toolwire.v1.CallToolRequest in application/proto: illegal tag: field no 536870911 wire type 7",
    });
  });

  it("answers an unknown method with 404 and unimplemented, as Connect clients expect", async () => {
    const res = await fetch(`${server.url}/toolwire.v1.ToolService/Nope`, { method: "POST", headers: { "content-type": "application/json" }, body: "{}" });
    expect(res.status).toBe(404);
    expect(((await res.json()) as { code: string }).code).toBe("unimplemented");
  });

  it("answers an unknown plain path with a JSON 404 naming the routes", async () => {
    const res = await fetch(`${server.url}/nowhere`);
    expect(res.status).toBe(404);
    const body = (await res.json()) as { code: string; message: string };
    expect(body.code).toBe("not_found");
    expect(body.message).toContain("/toolwire.v1.ToolService/");
  });
});
