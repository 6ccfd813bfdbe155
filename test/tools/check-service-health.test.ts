import { once } from "node:events";
import http from "node:http";
import net from "node:net";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ToolError } from "../../src/registry/tool-result.js";
import { checkServiceHealth } from "../../src/tools/check-service-health.js";
import { runTool } from "../helpers/run-tool.js";
import { createTestContext } from "../helpers/tool-context.js";
import { inputValidator, outputValidator } from "../helpers/tool-schemas.js";

const validateInput = inputValidator(checkServiceHealth);
const validateOutput = outputValidator(checkServiceHealth);

async function listen(server: net.Server): Promise<number> {
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  return (server.address() as AddressInfo).port;
}

/** A port nothing listens on: bound once, then released. */
async function closedPort(): Promise<number> {
  const server = net.createServer();
  const port = await listen(server);
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe("check_service_health", () => {
  const tcpServer = net.createServer((socket) => socket.end());
  const httpServer = http.createServer((req, res) => {
    if (req.url === "/redirect") res.writeHead(302, { location: `http://127.0.0.1:${deadPort}/` });
    else res.writeHead(req.url === "/fail" ? 500 : 200, { "content-type": "text/plain" });
    res.end("body");
  });
  // Accepts connections and never says a word.
  const silentSockets = new Set<net.Socket>();
  const silentServer = net.createServer((socket) => {
    silentSockets.add(socket);
    socket.on("close", () => silentSockets.delete(socket));
  });
  let tcpPort: number;
  let httpBase: string;
  let silentBase: string;
  let deadPort: number;

  beforeAll(async () => {
    tcpPort = await listen(tcpServer);
    httpBase = `http://127.0.0.1:${await listen(httpServer)}`;
    silentBase = `http://127.0.0.1:${await listen(silentServer)}`;
    deadPort = await closedPort();
  });
  afterAll(async () => {
    httpServer.closeAllConnections();
    for (const s of silentSockets) s.destroy();
    await Promise.all([tcpServer, httpServer, silentServer].map((s) => new Promise((resolve) => s.close(resolve))));
  });

  it("reports a listening TCP port as healthy", async () => {
    const result = await runTool(checkServiceHealth, { endpoints: [{ type: "tcp", host: "127.0.0.1", port: tcpPort }] });
    expect(validateOutput(result).message).toBe("");
    expect(result.overall).toBe("healthy");
    expect(result.results).toEqual([
      { name: `127.0.0.1:${tcpPort}`, type: "tcp", target: `127.0.0.1:${tcpPort}`, healthy: true, latencyMs: expect.any(Number) },
    ]);
  });

  it("reports a closed port as unhealthy and the whole as degraded", async () => {
    const result = await runTool(checkServiceHealth, {
      endpoints: [
        { type: "tcp", host: "127.0.0.1", port: tcpPort, name: "up" },
        { type: "tcp", host: "127.0.0.1", port: deadPort, name: "down" },
      ],
    });
    expect(validateOutput(result).message).toBe("");
    expect(result.overall).toBe("degraded");
    expect(result.results.map((r) => [r.name, r.healthy])).toEqual([["up", true], ["down", false]]);
    expect(result.results[1]?.error).toMatch(/ECONNREFUSED/);
  });

  it("reports an unknown host as unhealthy", async () => {
    const result = await runTool(checkServiceHealth, {
      endpoints: [{ type: "tcp", host: "no-such-host.invalid", port: 80 }],
      timeoutMs: 2000,
    });
    // Without a reachable resolver the lookup may time out instead of failing.
    expect(result.results[0]).toMatchObject({ healthy: false, error: expect.stringMatching(/ENOTFOUND|EAI_AGAIN|timed out/) });
  });

  it("accepts any 2xx or 3xx status by default, without following redirects", async () => {
    const result = await runTool(checkServiceHealth, {
      endpoints: [
        { type: "http", url: `${httpBase}/ok` },
        { type: "http", url: `${httpBase}/redirect`, name: "redirect" },
        { type: "http", url: `${httpBase}/fail`, name: "fail" },
      ],
    });
    expect(validateOutput(result).message).toBe("");
    expect(result.overall).toBe("degraded");
    expect(result.results[0]).toMatchObject({ name: `${httpBase}/ok`, type: "http", target: `${httpBase}/ok`, healthy: true, status: 200 });
    expect(result.results[0]).not.toHaveProperty("error");
    expect(result.results[1]).toMatchObject({ healthy: true, status: 302 });
    expect(result.results[2]).toMatchObject({ healthy: false, status: 500, error: "expected a 2xx or 3xx status, got 500" });
  });

  it("checks for the expected status when one is given", async () => {
    const result = await runTool(checkServiceHealth, {
      endpoints: [
        { type: "http", url: `${httpBase}/fail`, expectStatus: 500 },
        { type: "http", url: `${httpBase}/ok`, expectStatus: 204 },
      ],
    });
    expect(result.results.map((r) => [r.healthy, r.status])).toEqual([[true, 500], [false, 200]]);
    expect(result.results[1]?.error).toBe("expected status 204, got 200");
  });

  it("reports a refused HTTP connection with its cause", async () => {
    const result = await runTool(checkServiceHealth, { endpoints: [{ type: "http", url: `http://127.0.0.1:${deadPort}/` }] });
    expect(result.results[0]).toMatchObject({ healthy: false, error: expect.stringMatching(/ECONNREFUSED/) });
  });

  it("gives up on a server that never answers within timeoutMs", async () => {
    const started = performance.now();
    const result = await runTool(checkServiceHealth, {
      endpoints: [
        { type: "http", url: `${silentBase}/`, name: "silent" },
        { type: "tcp", host: "127.0.0.1", port: tcpPort, name: "up" },
      ],
      timeoutMs: 300,
    });
    const elapsed = performance.now() - started;
    expect(elapsed).toBeGreaterThanOrEqual(290);
    expect(elapsed).toBeLessThan(800);
    expect(result.overall).toBe("degraded");
    expect(result.results[0]).toMatchObject({ name: "silent", healthy: false, error: "timed out after 300 ms" });
    expect(result.results[0]!.latencyMs).toBeGreaterThanOrEqual(290);
    expect(result.results[1]).toMatchObject({ name: "up", healthy: true });
  });

  it("runs the checks concurrently", async () => {
    const silent = { type: "http", url: `${silentBase}/` } as const;
    const started = performance.now();
    const result = await runTool(checkServiceHealth, {
      endpoints: [silent, silent, silent, silent, silent],
      timeoutMs: 300,
    });
    expect(result.results.every((r) => !r.healthy)).toBe(true);
    expect(performance.now() - started).toBeLessThan(800);
  });

  it("stops every check when the call is aborted", async () => {
    const ctx = createTestContext();
    const call = runTool(checkServiceHealth, { endpoints: [{ type: "http", url: `${silentBase}/` }], timeoutMs: 10_000 }, ctx);
    setTimeout(() => ctx.controller.abort(new Error("cancelled")), 50);
    const started = performance.now();
    await expect(call).rejects.toThrow("cancelled");
    expect(performance.now() - started).toBeLessThan(500);
  });

  it("refuses a URL that is not http or https when called without validation", async () => {
    await expect(runTool(checkServiceHealth, { endpoints: [{ type: "http", url: "ftp://127.0.0.1/" }] })).rejects.toBeInstanceOf(
      ToolError,
    );
  });

  describe("input schema", () => {
    it("fills in the default timeout", () => {
      const result = validateInput({ endpoints: [{ type: "tcp", host: "localhost", port: 80 }] });
      expect(result.message).toBe("");
      expect(result.value).toEqual({ endpoints: [{ type: "tcp", host: "localhost", port: 80 }], timeoutMs: 5000 });
    });

    it("rejects no endpoints or more than 20", () => {
      expect(validateInput({ endpoints: [] }).valid).toBe(false);
      const many = Array.from({ length: 21 }, () => ({ type: "tcp", host: "localhost", port: 80 }));
      expect(validateInput({ endpoints: many }).message).toMatch(/\/endpoints: must NOT have more than 20 items/);
    });

    it("rejects malformed endpoints", () => {
      expect(validateInput({ endpoints: [{ type: "tcp", host: "localhost" }] }).valid).toBe(false);
      expect(validateInput({ endpoints: [{ type: "tcp", host: "localhost", port: 70000 }] }).valid).toBe(false);
      expect(validateInput({ endpoints: [{ type: "http", url: "ftp://example.com/" }] }).valid).toBe(false);
      expect(validateInput({ endpoints: [{ type: "http", url: "not a url" }] }).valid).toBe(false);
      expect(validateInput({ endpoints: [{ type: "tcp", host: "localhost", port: 80, url: "http://x/" }] }).valid).toBe(false);
      expect(validateInput({ endpoints: [{ type: "udp", host: "localhost", port: 53 }] }).valid).toBe(false);
      expect(validateInput({ endpoints: [{ type: "http", url: "HTTPS://example.com/" }] }).valid).toBe(true);
    });

    it("rejects a timeout out of range", () => {
      const endpoints = [{ type: "tcp", host: "localhost", port: 80 }];
      expect(validateInput({ endpoints, timeoutMs: 99 }).message).toBe("/timeoutMs: must be >= 100");
      expect(validateInput({ endpoints, timeoutMs: 30_001 }).message).toBe("/timeoutMs: must be <= 30000");
    });
  });
});
