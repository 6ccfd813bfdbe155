import { request } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { defineTool } from "../../src/registry/index.js";
import { createOriginPolicy, isLoopbackHost } from "../../src/security/index.js";
import { startServer, type TestServer } from "../helpers/server.js";

describe("isLoopbackHost", () => {
  it.each(["localhost", "LOCALHOST", "127.0.0.1", "127.1.2.3", "::1", "[::1]"])("treats %s as loopback", (host) => {
    expect(isLoopbackHost(host)).toBe(true);
  });

  it.each(["0.0.0.0", "::", "192.168.1.10", "example.com", "localhost.example.com", "128.0.0.1"])("treats %s as not loopback", (host) => {
    expect(isLoopbackHost(host)).toBe(false);
  });
});

describe("Host allow-list", () => {
  const loopback = createOriginPolicy({ listenHost: "127.0.0.1" });

  it.each(["localhost:8081", "127.0.0.1:8081", "[::1]:8081", "localhost", "app.localhost:3000", "LocalHost:8081"])(
    "serves the loopback name %s when listening on loopback",
    (host) => {
      expect(loopback.checkHost(host)).toBeUndefined();
    },
  );

  it.each(["evil.example:8081", "127.0.0.1.evil.example", "localhost.evil.example", "localhost:abc", "", "10.0.0.1:8081"])(
    "refuses the Host %j on loopback, naming the setting",
    (host) => {
      const reason = loopback.checkHost(host);
      expect(reason).toContain("DNS rebinding");
      expect(reason).toContain("server.allowedHosts");
    },
  );

  it("serves a request without a Host header", () => {
    expect(loopback.checkHost(undefined)).toBeUndefined();
  });

  it("serves any Host when listening on every interface without a list", () => {
    const open = createOriginPolicy({ listenHost: "0.0.0.0" });
    expect(open.checkHost("anything.example:1234")).toBeUndefined();
  });

  it("applies a configured list of names, name:port and *.domain rules", () => {
    const policy = createOriginPolicy({ listenHost: "0.0.0.0", allowedHosts: ["api.example.com", "internal:8443", "*.svc.example", "[2001:db8::1]"] });
    for (const host of ["api.example.com", "API.example.com:443", "internal:8443", "a.svc.example", "a.b.svc.example:80", "[2001:db8::1]:8081"]) {
      expect(policy.checkHost(host), host).toBeUndefined();
    }
    for (const host of ["example.com", "internal:8080", "internal", "svc.example", "evilsvc.example", "[2001:db8::2]:8081"]) {
      expect(policy.checkHost(host), host).toContain("is not served here");
    }
  });

  it("bounds a huge Host header in its refusal", () => {
    const reason = loopback.checkHost(`${"a".repeat(5000)}.example`);
    expect(reason?.length).toBeLessThan(600);
  });
});

describe("Origin verdicts", () => {
  const policy = createOriginPolicy({ listenHost: "127.0.0.1", corsOrigins: ["https://App.example.com"] });

  it("says none without an Origin", () => {
    expect(policy.checkOrigin(undefined, "localhost:8081")).toBe("none");
  });

  it.each([
    ["http://localhost:8081", "localhost:8081"],
    ["http://LOCALHOST:8081", "localhost:8081"],
    ["http://localhost", "localhost:80"],
    ["https://localhost", "localhost:443"],
    ["http://[::1]:8081", "[::1]:8081"],
  ])("sees %s as same-origin with Host %s", (origin, host) => {
    expect(policy.checkOrigin(origin, host)).toBe("same-origin");
  });

  it("answers an allowed foreign origin with CORS, ignoring case", () => {
    expect(policy.checkOrigin("https://app.example.com", "localhost:8081")).toBe("cors");
  });

  it.each([
    "https://evil.example",
    "http://localhost:9999",
    "http://app.example.com",
    "https://app.example.com.evil.example",
    "null",
  ])("refuses the foreign origin %s", (origin) => {
    expect(policy.checkOrigin(origin, "localhost:8081")).toBe("refused");
  });

  it("allows any origin with *", () => {
    const any = createOriginPolicy({ listenHost: "127.0.0.1", corsOrigins: ["*"] });
    expect(any.checkOrigin("https://whoever.example", "localhost:8081")).toBe("cors");
  });

  it("echoes the origin and lets browsers send credentials headers in a preflight", () => {
    const headers = policy.preflightHeaders("https://app.example.com");
    expect(headers["access-control-allow-origin"]).toBe("https://app.example.com");
    expect(headers["access-control-allow-headers"]).toMatch(/\bAuthorization\b/);
    expect(headers["access-control-allow-headers"]).toMatch(/\bX-Api-Key\b/);
    expect(headers["access-control-allow-methods"]).toMatch(/\bPOST\b/);
    expect(headers.vary).toBe("Origin");
    expect(policy.corsHeaders("https://app.example.com")["access-control-expose-headers"]).toMatch(/\bGrpc-Status\b/i);
  });
});

describe("the policy on a real server", () => {
  let server: TestServer;
  beforeAll(async () => {
    const echo = defineTool({ name: "open", version: "1.0.0", description: "says ok", input: { type: "object" } }, () => ({ ok: true }));
    server = await startServer({ tools: [echo], corsOrigins: ["https://app.example.com"] });
  });
  afterAll(() => server.close());

  /** A raw HTTP/1.1 request, so Host and Origin can be anything. */
  function send(method: string, headers: Record<string, string>): Promise<{ status: number; headers: Record<string, unknown>; body: string }> {
    return new Promise((resolve, reject) => {
      const req = request(
        { host: "127.0.0.1", port: server.port, method, path: "/toolwire.v1.ToolService/CallTool", headers: { "content-type": "application/json", ...headers } },
        (res) => {
          let body = "";
          res.on("data", (d: Buffer) => (body += d.toString()));
          res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
        },
      );
      req.on("error", reject);
      req.end(method === "POST" ? JSON.stringify({ name: "open", arguments: {} }) : undefined);
    });
  }

  it("refuses a rebinding Host with 403 and the reason", async () => {
    const res = await send("POST", { host: `attacker.example:${server.port}` });
    expect(res.status).toBe(403);
    expect(JSON.parse(res.body)).toMatchObject({ code: "permission_denied" });
    expect(res.body).toContain("DNS rebinding");
  });

  it("refuses a foreign Origin with 403", async () => {
    const res = await send("POST", { host: `localhost:${server.port}`, origin: "https://evil.example" });
    expect(res.status).toBe(403);
    expect(res.body).toContain("server.corsOrigins");
  });

  it("serves a same-origin browser call without CORS headers", async () => {
    const res = await send("POST", { host: `localhost:${server.port}`, origin: `http://localhost:${server.port}` });
    expect(res.status).toBe(200);
    expect(res.headers["access-control-allow-origin"]).toBeUndefined();
  });

  it("answers an allowed origin's preflight and call with CORS headers", async () => {
    const preflight = await send("OPTIONS", {
      host: `localhost:${server.port}`,
      origin: "https://app.example.com",
      "access-control-request-method": "POST",
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers["access-control-allow-origin"]).toBe("https://app.example.com");
    const res = await send("POST", { host: `localhost:${server.port}`, origin: "https://app.example.com" });
    expect(res.status).toBe(200);
    expect(res.headers["access-control-allow-origin"]).toBe("https://app.example.com");
    expect(JSON.parse(res.body)).toMatchObject({ structuredContent: { ok: true } });
  });
});
