import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { connect as tlsConnect } from "node:tls";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { createConnectTransport, createGrpcTransport, createGrpcWebTransport } from "@connectrpc/connect-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { echo } from "../../src/tools/echo.js";
import { startServer, toolClient, type TestServer } from "../helpers/server.js";

let server: TestServer;
let dir: string;
let ca: Buffer;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "toolwire-tls-"));
  await promisify(execFile)("openssl", [
    "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "1",
    "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
    "-keyout", join(dir, "key.pem"), "-out", join(dir, "cert.pem"),
  ]);
  ca = await readFile(join(dir, "cert.pem"));
  server = await startServer({ tools: [echo], tls: { cert: ca, key: await readFile(join(dir, "key.pem")) } });
});
afterAll(async () => {
  await server.close();
  await rm(dir, { recursive: true, force: true });
});

function alpn(protocols: string[]): Promise<string | false> {
  return new Promise((resolve, reject) => {
    const socket = tlsConnect({ host: "127.0.0.1", port: server.port, ca, ALPNProtocols: protocols }, () => {
      resolve(socket.alpnProtocol ?? false);
      socket.end();
    });
    socket.on("error", reject);
  });
}

describe("TLS", () => {
  it("negotiates h2 and http/1.1 by ALPN", async () => {
    expect(server.url).toMatch(/^https:/);
    expect(await alpn(["h2", "http/1.1"])).toBe("h2");
    expect(await alpn(["http/1.1"])).toBe("http/1.1");
  });

  it.each([
    ["connect over HTTP/2", () => createConnectTransport({ baseUrl: server.url, httpVersion: "2", nodeOptions: { ca } })],
    ["connect over HTTP/1.1", () => createConnectTransport({ baseUrl: server.url, httpVersion: "1.1", nodeOptions: { ca } })],
    ["gRPC", () => createGrpcTransport({ baseUrl: server.url, nodeOptions: { ca } })],
    ["gRPC-Web over HTTP/1.1", () => createGrpcWebTransport({ baseUrl: server.url, httpVersion: "1.1", nodeOptions: { ca } })],
  ])("serves %s", async (_name, transport) => {
    const res = await toolClient(server.url, transport()).callTool({ name: "echo", arguments: { message: "secure" } });
    expect(res.structuredContent).toEqual({ message: "secure" });
  });
});

describe("slow clients over TLS", () => {
  it("answers 408 and closes an HTTP/1.1 connection that never finishes its headers", async () => {
    const slow = await startServer({ tools: [echo], headersTimeoutMs: 500, tls: { cert: ca, key: await readFile(join(dir, "key.pem")) } });
    try {
      const received = await new Promise<string>((resolve, reject) => {
        let data = "";
        const socket = tlsConnect({ host: "127.0.0.1", port: slow.port, ca, ALPNProtocols: ["http/1.1"] }, () => {
          socket.write("POST /toolwire.v1.ToolService/CallTool HTTP/1.1\r\nHost: 127.0.0.1\r\n");
        });
        socket.on("data", (d: Buffer) => (data += d.toString()));
        socket.on("close", () => resolve(data));
        socket.on("error", reject);
      });
      expect(received).toMatch(/^HTTP\/1.1 408/);
    } finally {
      await slow.close();
    }
  });
});
