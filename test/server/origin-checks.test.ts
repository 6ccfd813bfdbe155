import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createOriginPolicy } from "../../src/security/index.js";
import { echo } from "../../src/tools/echo.js";
import { startServer, type TestServer } from "../helpers/server.js";

const run = promisify(execFile);

/** Runs curl and returns the status line, headers (lower-cased) and body. */
async function curl(args: string[]): Promise<{ status: number; headers: Record<string, string>; body: string }> {
  const { stdout } = await run("curl", ["-s", "-i", ...args]);
  const [head = "", ...rest] = stdout.split("\r\n\r\n");
  const [statusLine = "", ...lines] = head.split("\r\n");
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const i = line.indexOf(":");
    headers[line.slice(0, i).toLowerCase()] = line.slice(i + 1).trim();
  }
  return { status: Number(statusLine.split(" ")[1]), headers, body: rest.join("\r\n\r\n") };
}

const callBody = ["-H", "content-type: application/json", "-d", '{"name":"echo","arguments":{"message":"hi"}}'];

let server: TestServer;
let custom: TestServer;
beforeAll(async () => {
  server = await startServer({ tools: [echo], corsOrigins: ["https://app.example.com"] });
  custom = await startServer({ tools: [echo], allowedHosts: ["tools.internal", "*.corp.example"] });
});
afterAll(async () => {
  await server.close();
  await custom.close();
});

describe("Host checks against DNS rebinding", () => {
  it("serves the loopback names by default", async () => {
    for (const host of ["localhost", `localhost:${server.port}`, `127.0.0.1:${server.port}`, `[::1]:${server.port}`]) {
      const res = await curl(["-H", `Host: ${host}`, `${server.url}/health`]);
      expect(res.status, host).toBe(200);
    }
  });

  it("refuses a foreign Host with 403 and names the setting", async () => {
    const health = await curl(["-H", "Host: attacker.example", `${server.url}/health`]);
    expect(health.status).toBe(403);
    expect(JSON.parse(health.body)).toMatchObject({ code: "permission_denied" });
    expect(health.body).toContain("server.allowedHosts");
    const rpc = await curl(["-H", "Host: attacker.example", ...callBody, `${server.url}/toolwire.v1.ToolService/CallTool`]);
    expect(rpc.status).toBe(403);
  });

  it("serves only the configured hosts when allowedHosts is set", async () => {
    expect((await curl(["-H", "Host: tools.internal:8081", `${custom.url}/health`])).status).toBe(200);
    expect((await curl(["-H", "Host: api.corp.example", `${custom.url}/health`])).status).toBe(200);
    expect((await curl(["-H", "Host: localhost", `${custom.url}/health`])).status).toBe(403);
  });
});

describe("CORS", () => {
  it("answers an allowed preflight with Connect's header lists", async () => {
    const res = await curl([
      "-X",
      "OPTIONS",
      "-H",
      "Origin: https://app.example.com",
      "-H",
      "Access-Control-Request-Method: POST",
      "-H",
      "Access-Control-Request-Headers: content-type,connect-protocol-version,authorization",
      `${server.url}/toolwire.v1.ToolService/CallTool`,
    ]);
    expect(res.status).toBe(204);
    expect(res.headers["access-control-allow-origin"]).toBe("https://app.example.com");
    expect(res.headers["access-control-allow-methods"]).toContain("POST");
    const allowed = (res.headers["access-control-allow-headers"] ?? "").toLowerCase();
    for (const h of ["content-type", "connect-protocol-version", "authorization", "x-grpc-web", "grpc-timeout"]) expect(allowed).toContain(h);
    expect(res.headers.vary).toBe("Origin");
  });

  it("refuses a preflight from an origin not on the list", async () => {
    const res = await curl([
      "-X",
      "OPTIONS",
      "-H",
      "Origin: https://evil.example",
      "-H",
      "Access-Control-Request-Method: POST",
      `${server.url}/toolwire.v1.ToolService/CallTool`,
    ]);
    expect(res.status).toBe(403);
    expect(res.headers["access-control-allow-origin"]).toBeUndefined();
    expect(res.body).toContain("server.corsOrigins");
  });

  it("lets an allowed origin read the answer and the headers it needs", async () => {
    const res = await curl(["-H", "Origin: https://app.example.com", ...callBody, `${server.url}/toolwire.v1.ToolService/CallTool`]);
    expect(res.status).toBe(200);
    expect(res.headers["access-control-allow-origin"]).toBe("https://app.example.com");
    expect(res.headers["access-control-expose-headers"]).toContain("Grpc-Status");
    expect(res.headers["access-control-expose-headers"]).toContain("Retry-After");
  });

  it("refuses a call from a foreign origin instead of running it", async () => {
    const res = await curl(["-H", "Origin: https://evil.example", ...callBody, `${server.url}/toolwire.v1.ToolService/CallTool`]);
    expect(res.status).toBe(403);
    expect(JSON.parse(res.body)).toMatchObject({ code: "permission_denied" });
  });

  it("treats a page from the server's own origin as same-origin, without CORS headers", async () => {
    const res = await curl(["-H", `Origin: ${server.url}`, ...callBody, `${server.url}/toolwire.v1.ToolService/CallTool`]);
    expect(res.status).toBe(200);
    expect(res.headers["access-control-allow-origin"]).toBeUndefined();
  });

  it("allows no origin at all by default", async () => {
    const res = await curl(["-H", "Host: tools.internal", "-H", "Origin: https://app.example.com", `${custom.url}/health`]);
    expect(res.status).toBe(403);
    expect(res.body).toContain("server.corsOrigins");
    expect((await curl(["-H", "Host: tools.internal", `${custom.url}/health`])).status).toBe(200);
  });
});

describe("Host checks on every interface", () => {
  const policy = createOriginPolicy({ listenHost: "0.0.0.0" });

  it("serves only loopback names to connections that arrive through loopback", () => {
    expect(policy.checkHost("rebound.attacker.example:8081", "127.0.0.1")).toContain("DNS rebinding");
    expect(policy.checkHost("rebound.attacker.example:8081", "::ffff:127.0.0.1")).toContain("DNS rebinding");
    expect(policy.checkHost("localhost:8081", "127.0.0.1")).toBeUndefined();
  });

  it("serves any name to connections from the network when no allow-list is set", () => {
    expect(policy.checkHost("tools.example.com", "10.1.2.3")).toBeUndefined();
  });
});
