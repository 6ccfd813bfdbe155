import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RetryInfoSchema } from "../../gen/proto/toolwire/v1/errors_pb.js";
import { ToolService } from "../../gen/proto/toolwire/v1/tool_service_pb.js";
import { defineTool, type ToolManifest } from "../../src/registry/index.js";
import { createAuthenticator, createToolRateLimiter } from "../../src/security/index.js";
import type { ToolwireServerOptions } from "../../src/server/index.js";
import { startRedis, type TestRedis } from "../helpers/redis.js";
import { authHeaders, keyCaller } from "../helpers/security.js";
import { protocolCases, startServer, type TestServer } from "../helpers/server.js";

const run = promisify(execFile);

function tool(name: string, extra: Partial<ToolManifest> = {}) {
  return defineTool({ name, version: "1.0.0", description: `rate tool ${name}`, input: { type: "object" }, ...extra }, async () => {
    // A little asynchrony so concurrent calls really overlap.
    await new Promise((r) => setTimeout(r, 5));
    return { ok: true };
  });
}

const budgeted = tool("budgeted", { rateLimit: { maxCalls: 20, windowSeconds: 60 } });
const free = tool("free");
const alice = keyCaller("alice", "authenticated");
const bob = keyCaller("bob", "authenticated");
const authenticate = createAuthenticator({ apiKeys: [alice.entry!, bob.entry!] });

interface Tally {
  ok: number;
  exhausted: ConnectError[];
  other: unknown[];
}

/** Fires `n` calls at once and counts outcomes. */
async function burst(n: number, call: (i: number) => Promise<unknown>): Promise<Tally> {
  const tally: Tally = { ok: 0, exhausted: [], other: [] };
  await Promise.all(
    Array.from({ length: n }, (_, i) =>
      call(i).then(
        () => void tally.ok++,
        (err: unknown) => {
          const e = ConnectError.from(err);
          if (e.code === Code.ResourceExhausted) tally.exhausted.push(e);
          else tally.other.push(err);
        },
      ),
    ),
  );
  return tally;
}

async function serverWith(options: ToolwireServerOptions): Promise<TestServer> {
  return startServer({ tools: [budgeted, free], authenticate, ...options });
}

describe("rate limits", () => {
  it("allows exactly the manifest's budget per caller under 50 concurrent calls, over every protocol", async () => {
    for (const protocol of protocolCases.filter((p) => !p.name.includes("GET"))) {
      // A fresh server per protocol, so each starts with a whole budget.
      const s = await serverWith({});
      try {
        const client = createClient(ToolService, protocol.transport(s.url));
        const tally = await burst(50, () => client.callTool({ name: "budgeted" }, { headers: authHeaders(alice) }));
        expect(tally.other, protocol.name).toEqual([]);
        expect(tally.ok, protocol.name).toBe(20);
        expect(tally.exhausted.length, protocol.name).toBe(30);
      } finally {
        await s.close();
      }
    }
  });

  it("keeps each caller's budget apart", async () => {
    const s = await serverWith({});
    try {
      const client = createClient(ToolService, protocolCases[0]!.transport(s.url));
      const alices = await burst(25, () => client.callTool({ name: "budgeted" }, { headers: authHeaders(alice) }));
      const bobs = await burst(25, () => client.callTool({ name: "budgeted" }, { headers: authHeaders(bob) }));
      expect([alices.ok, bobs.ok]).toEqual([20, 20]);
    } finally {
      await s.close();
    }
  });

  it("says when to retry: a RetryInfo detail, an ErrorInfo reason and the message", async () => {
    const s = await serverWith({});
    try {
      const client = createClient(ToolService, protocolCases[0]!.transport(s.url));
      const tally = await burst(21, () => client.callTool({ name: "budgeted" }, { headers: authHeaders(alice) }));
      const err = tally.exhausted[0];
      expect(err).toBeDefined();
      const [retry] = err!.findDetails(RetryInfoSchema);
      expect(Number(retry?.retryDelay?.seconds ?? 0)).toBeGreaterThan(50);
      expect(Number(retry?.retryDelay?.seconds ?? 0)).toBeLessThanOrEqual(60);
      expect(err!.rawMessage).toMatch(/rate limit of tool "budgeted" reached: 20 calls per 60s for caller "alice"; retry after \d+s/);
    } finally {
      await s.close();
    }
  });

  it("sends Retry-After to plain HTTP clients", async () => {
    const s = await serverWith({ requestLimits: { anonymousPerIp: { maxCalls: 2, windowSeconds: 30 } } });
    try {
      const curl = () =>
        run("curl", ["-s", "-i", "-H", "content-type: application/json", "-d", '{"name":"free"}', `${s.url}/toolwire.v1.ToolService/CallTool`]);
      await curl();
      await curl();
      const { stdout } = await curl();
      expect(stdout).toMatch(/^HTTP\/1\.1 429/);
      expect(stdout).toMatch(/^retry-after: (2\d|30)\r?$/im);
      expect(stdout).toContain('"code":"resource_exhausted"');
      expect(stdout).toContain("anonymous callers from 127.0.0.1");
    } finally {
      await s.close();
    }
  });

  it("applies the per-caller default across every tool and listing", async () => {
    const s = await serverWith({ requestLimits: { perCaller: { maxCalls: 10, windowSeconds: 60 } } });
    try {
      const client = createClient(ToolService, protocolCases[0]!.transport(s.url));
      const tally = await burst(30, (i) =>
        i % 3 === 0 ? client.listTools({}, { headers: authHeaders(alice) }) : client.callTool({ name: "free" }, { headers: authHeaders(alice) }),
      );
      expect(tally.other).toEqual([]);
      expect(tally.ok).toBe(10);
      expect(tally.exhausted[0]?.rawMessage).toContain('for caller "alice"');
      // Another caller still has its whole budget.
      await expect(client.callTool({ name: "free" }, { headers: authHeaders(bob) })).resolves.toBeDefined();
    } finally {
      await s.close();
    }
  });

  it("limits anonymous callers per address, and charges bad credentials to the address", async () => {
    const s = await serverWith({ requestLimits: { anonymousPerIp: { maxCalls: 5, windowSeconds: 60 } } });
    try {
      const client = createClient(ToolService, protocolCases[0]!.transport(s.url));
      const guesses = await burst(3, (i) => client.callTool({ name: "free" }, { headers: { "x-api-key": `guess-${i}` } }));
      expect(guesses.other.map((e) => ConnectError.from(e).code)).toEqual([Code.Unauthenticated, Code.Unauthenticated, Code.Unauthenticated]);
      const anonymous = await burst(5, () => client.callTool({ name: "free" }));
      expect(anonymous.ok).toBe(2);
      expect(anonymous.exhausted.length).toBe(3);
      // Identified callers are not charged to the address.
      await expect(client.callTool({ name: "free" }, { headers: authHeaders(alice) })).resolves.toBeDefined();
    } finally {
      await s.close();
    }
  });
});

describe("rate limits in Redis", () => {
  let redis: TestRedis;
  beforeAll(async () => {
    redis = await startRedis();
  });
  afterAll(() => redis?.stop());

  it("allows exactly the budget across two instances sharing Redis, under 50 concurrent calls", async () => {
    const limiterOptions = { redis: redis.client, keyPrefix: `t${Date.now()}:` };
    const a = await serverWith({ rateLimiter: createToolRateLimiter(limiterOptions) });
    const b = await serverWith({ rateLimiter: createToolRateLimiter(limiterOptions) });
    try {
      const clients = [a, b].map((s) => createClient(ToolService, protocolCases[0]!.transport(s.url)));
      const tally = await burst(50, (i) => clients[i % 2]!.callTool({ name: "budgeted" }, { headers: authHeaders(alice) }));
      expect(tally.other).toEqual([]);
      expect(tally.ok).toBe(20);
      expect(tally.exhausted.length).toBe(30);
      const keys = await redis.client.keys(`${limiterOptions.keyPrefix}rl:*`);
      expect(keys.length).toBeGreaterThan(0);
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });
});
