import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createProductionClient } from "../../src/client/index.js";
import { startServer, type TestServer } from "../helpers/server.js";
import { clientProtocolCases, createClientTestTools, rejection } from "./client-fixtures.js";

let server: TestServer;
let dir: string;
let ca: Buffer;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "toolwire-client-tls-"));
  await promisify(execFile)("openssl", [
    "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "1",
    "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
    "-keyout", join(dir, "key.pem"), "-out", join(dir, "cert.pem"),
  ]);
  ca = await readFile(join(dir, "cert.pem"));
  server = await startServer({ tools: createClientTestTools("tls").tools, tls: { cert: ca, key: await readFile(join(dir, "key.pem")) } });
});
afterAll(async () => {
  await server.close();
  await rm(dir, { recursive: true, force: true });
});

describe.each(clientProtocolCases)("TLS with $name", ({ options }) => {
  it("trusts the configured certificate authority", async () => {
    const client = createProductionClient(server.url, { ...options, tls: { ca } });
    try {
      expect((await client.callTool("whoami")).structuredContent).toEqual({ server: "tls", caller: "anonymous" });
    } finally {
      await client.disconnect();
    }
  });
});

describe("TLS", () => {
  it("refuses a server whose certificate it cannot verify", async () => {
    const client = createProductionClient(server.url, { retry: false });
    try {
      const err = await rejection(client.callTool("whoami"));
      expect(err.message).toMatch(/self[- ]signed|certificate/i);
    } finally {
      await client.disconnect();
    }
  });
});
