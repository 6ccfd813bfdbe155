import { once } from "node:events";
import http from "node:http";
import net from "node:net";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ToolError } from "../../src/registry/tool-result.js";
import { createToolRateLimiter } from "../../src/security/rate-limit.js";
import { checkServiceHealth, isBlockedAddress, probeHttp, probeTcp } from "../../src/tools/check-service-health.js";
import { closedPort } from "../helpers/ports.js";
import { settlesWithoutWaiting } from "../helpers/promises.js";
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

describe("check_service_health", () => {
  const tcpServer = net.createServer((socket) => socket.end());
  /** Host header of every request the HTTP server got, by path. */
  const hostHeaders = new Map<string, string | undefined>();
  const httpServer = http.createServer((req, res) => {
    hostHeaders.set(req.url ?? "", req.headers.host);
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
    expect(performance.now() - started).toBeGreaterThanOrEqual(290);
    expect(result.overall).toBe("degraded");
    expect(result.results[0]).toMatchObject({ name: "silent", healthy: false, error: "timed out after 300 ms" });
    expect(result.results[0]!.latencyMs).toBeGreaterThanOrEqual(290);
    expect(result.results[1]).toMatchObject({ name: "up", healthy: true });
  });

  it("runs the checks concurrently", async () => {
    // Answers only once all five requests are in: checks run one after the other would time out.
    const held: http.ServerResponse[] = [];
    const gate = http.createServer((_req, res) => {
      held.push(res);
      if (held.length === 5) for (const r of held) r.end("ok");
    });
    const gated = { type: "http", url: `http://127.0.0.1:${await listen(gate)}/` } as const;
    try {
      const result = await runTool(checkServiceHealth, {
        endpoints: [gated, gated, gated, gated, gated],
        timeoutMs: 5000,
      });
      expect(result.results.map((r) => r.healthy)).toEqual([true, true, true, true, true]);
    } finally {
      gate.closeAllConnections();
      await new Promise((resolve) => gate.close(resolve));
    }
  });

  it("stops every check when the call is aborted", async () => {
    const ctx = createTestContext();
    const connected = once(silentServer, "connection");
    const call = runTool(checkServiceHealth, { endpoints: [{ type: "http", url: `${silentBase}/` }], timeoutMs: 10_000 }, ctx);
    const [socket] = (await connected) as [net.Socket];
    const closed = once(socket, "close");
    ctx.controller.abort(new Error("cancelled"));
    expect(await settlesWithoutWaiting(call)).toBe(true);
    await expect(call).rejects.toThrow("cancelled");
    await closed;
  });

  it("refuses a URL that is not http or https when called without validation", async () => {
    await expect(runTool(checkServiceHealth, { endpoints: [{ type: "http", url: "ftp://127.0.0.1/" }] })).rejects.toBeInstanceOf(
      ToolError,
    );
  });

  describe("address policy", () => {
    const refusal = /^refused: .* is a link-local, cloud metadata or unspecified address; check_service_health does not probe those$/;

    it.each([
      ["169.254.169.254", true],
      ["169.254.0.1", true],
      ["0.0.0.0", true],
      ["0.1.2.3", true],
      ["fe80::1", true],
      ["fe80::1%lo", true],
      ["febf:ffff::1", true],
      ["::", true],
      ["::ffff:169.254.169.254", true],
      ["::ffff:0.0.0.0", true],
      ["64:ff9b::a9fe:a9fe", true],
      ["fd00:ec2::254", true],
      ["100.100.100.200", true],
      ["127.0.0.1", false],
      ["127.1.2.3", false],
      ["::1", false],
      ["10.0.0.1", false],
      ["172.16.5.4", false],
      ["192.168.1.1", false],
      ["fd12:3456::1", false],
      ["100.64.0.1", false],
      ["1.1.1.1", false],
      ["2606:4700::1111", false],
      ["fec0::1", false],
    ])("%s blocked: %s", (address, blocked) => {
      expect(isBlockedAddress(address)).toBe(blocked);
    });

    it("refuses metadata, link-local and unspecified addresses per endpoint, without connecting", async () => {
      const result = await runTool(checkServiceHealth, {
        endpoints: [
          { type: "tcp", host: "169.254.169.254", port: 80, name: "metadata" },
          { type: "http", url: "http://169.254.169.254/latest/meta-data/", name: "metadata http" },
          { type: "http", url: "http://[::ffff:169.254.169.254]/", name: "mapped" },
          { type: "tcp", host: "fe80::1", port: 22, name: "link-local v6" },
          // On Linux 0.0.0.0 reaches the local host: this would be healthy if it were probed.
          { type: "tcp", host: "0.0.0.0", port: tcpPort, name: "unspecified" },
          { type: "tcp", host: "127.0.0.1", port: tcpPort, name: "loopback" },
        ],
        timeoutMs: 5000,
      });
      expect(validateOutput(result).message).toBe("");
      expect(result.overall).toBe("degraded");
      expect(result.results.map((r) => [r.name, r.healthy])).toEqual([
        ["metadata", false],
        ["metadata http", false],
        ["mapped", false],
        ["link-local v6", false],
        ["unspecified", false],
        ["loopback", true],
      ]);
      // No connection was attempted: a probe would have ended in a timeout or a network error.
      for (const r of result.results.slice(0, 5)) {
        expect(r.error).toMatch(refusal);
        expect(r).not.toHaveProperty("status");
      }
      expect(result.results[0]?.error).toContain("169.254.169.254 is a link-local");
    });

    it("refuses a host name that resolves to a blocked address, naming both", async () => {
      // getaddrinfo turns these numeric host names into addresses without asking DNS.
      const result = await runTool(checkServiceHealth, {
        endpoints: [
          { type: "tcp", host: "0xa9fea9fe", port: 80 },
          { type: "tcp", host: "0", port: tcpPort },
        ],
      });
      expect(result.results[0]?.error).toMatch(/^refused: 0xa9fea9fe resolves to 169\.254\.169\.254, which is a link-local/);
      expect(result.results[1]?.error).toMatch(/^refused: 0 resolves to 0\.0\.0\.0, which is a link-local/);
    });

    it("keeps loopback by name allowed and sends the URL's host as the Host header", async () => {
      const port = new URL(httpBase).port;
      const result = await runTool(checkServiceHealth, {
        endpoints: [
          { type: "http", url: `http://localhost:${port}/by-name` },
          { type: "tcp", host: "localhost", port: tcpPort },
        ],
      });
      expect(result.results.map((r) => r.healthy)).toEqual([true, true]);
      expect(hostHeaders.get("/by-name")).toBe(`localhost:${port}`);
    });

    it("connects to the resolved addresses only, never resolving the name again", async () => {
      // .invalid never resolves (RFC 6761): these succeed only by using the addresses given.
      const loopback = [{ address: "127.0.0.1", family: 4 }];
      const signal = new AbortController().signal;
      const port = new URL(httpBase).port;
      await expect(probeTcp("toolwire-pinned.invalid", tcpPort, loopback, signal)).resolves.toBeUndefined();
      const status = await probeHttp(new URL(`http://toolwire-pinned.invalid:${port}/pinned`), loopback, signal);
      expect(status).toBe(200);
      expect(hostHeaders.get("/pinned")).toBe(`toolwire-pinned.invalid:${port}`);
    });

    it("sends the URL's host as the TLS server name when connecting to a resolved address", async () => {
      // A plain TCP server reads the ClientHello, where SNI travels in the clear.
      let hello: Buffer = Buffer.alloc(0);
      const sniServer = net.createServer((socket) => {
        socket.once("data", (chunk: Buffer) => {
          hello = chunk;
          socket.destroy();
        });
      });
      const port = await listen(sniServer);
      try {
        const probe = probeHttp(new URL(`https://toolwire-sni.invalid:${port}/`), [{ address: "127.0.0.1", family: 4 }], new AbortController().signal);
        await expect(probe).rejects.toThrow();
        expect(hello.includes("toolwire-sni.invalid")).toBe(true);
      } finally {
        await new Promise((resolve) => sniServer.close(resolve));
      }
    });
  });

  it("is rate-limited to 30 calls a minute per caller", async () => {
    const rule = checkServiceHealth.descriptor.manifest.rateLimit;
    expect(rule).toEqual({ maxCalls: 30, windowSeconds: 60 });
    // The limiter the call pipeline applies manifests' rateLimit with.
    const limiter = createToolRateLimiter();
    for (let i = 0; i < 30; i++) await limiter.consume("check_service_health", rule!, "caller-a");
    await expect(limiter.consume("check_service_health", rule!, "caller-a")).rejects.toThrow(/rate limit/);
    await expect(limiter.consume("check_service_health", rule!, "caller-b")).resolves.toBeUndefined();
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
