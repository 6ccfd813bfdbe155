import { Code, ConnectError, type Client } from "@connectrpc/connect";
import { afterEach, describe, expect, it } from "vitest";
import { EventType, MonitorService, ServerStatus } from "../../gen/proto/toolwire/v1/monitor_service_pb.js";
import { defineTool } from "../../src/registry/index.js";
import { echo } from "../../src/tools/index.js";
import { toolClient } from "../helpers/server.js";
import { startInstance, startRestartableRedis, type Instance, type RestartableRedis } from "./cluster-helpers.js";

const budgeted = defineTool(
  { name: "budgeted", version: "1.0.0", description: "a rate-limited tool", input: { type: "object" }, rateLimit: { maxCalls: 3, windowSeconds: 60 } },
  async () => ({ ok: true }),
);
const plenty = defineTool(
  { name: "plenty", version: "1.0.0", description: "a tool with a large budget", input: { type: "object" }, rateLimit: { maxCalls: 1_000_000, windowSeconds: 60 } },
  async () => {
    await new Promise((r) => setTimeout(r, 2));
    return { ok: true };
  },
);

async function health(url: string): Promise<{ status: string; reason?: string }> {
  const res = await fetch(`${url}/health`);
  return (await res.json()) as { status: string; reason?: string };
}

/** Calls `plenty` on the instances in turn, `concurrency` at a time, until stopped; counts outcomes. */
function load(urls: readonly string[], concurrency: number) {
  let running = true;
  const tally = { ok: 0, failed: [] as unknown[], requestIds: [] as string[] };
  const workers = Array.from({ length: concurrency }, async (_, w) => {
    const clients = urls.map((url) => toolClient(url));
    for (let i = w; running; i++) {
      try {
        const res = await (clients[i % clients.length] as ReturnType<typeof toolClient>).callTool({ name: "plenty", arguments: {} });
        tally.ok++;
        tally.requestIds.push(res.requestId);
      } catch (err) {
        tally.failed.push(err);
      }
    }
  });
  return {
    tally,
    async stop() {
      running = false;
      await Promise.all(workers);
      return tally;
    },
  };
}

/** Reads events from a stream until one matches, or fails with the stream's error. */
async function waitForEvent(monitor: Client<typeof MonitorService>, matches: (e: { type: EventType; status: ServerStatus; message: string }) => boolean, afterSequence?: bigint) {
  const abort = new AbortController();
  try {
    for await (const message of monitor.watchEvents({ afterSequence }, { signal: abort.signal })) {
      if (message.kind.case === "event" && matches(message.kind.value)) return message.kind.value;
    }
  } finally {
    abort.abort();
  }
  return undefined;
}

describe("Redis faults", () => {
  const instances: Instance[] = [];
  let redis: RestartableRedis | undefined;

  afterEach(async () => {
    for (const instance of instances.splice(0)) await instance.stop();
    await redis?.dispose();
    redis = undefined;
  });

  async function instance(url: string, options?: Parameters<typeof startInstance>[1]): Promise<Instance> {
    const started = await startInstance(url, options);
    instances.push(started);
    return started;
  }

  it("serves every call while Redis is stopped and restarted under load, reports degraded, and recovers with no event lost", async () => {
    redis = await startRestartableRedis();
    const a = await instance(redis.url, { tools: [plenty] });
    const b = await instance(redis.url, { tools: [plenty] });
    const traffic = load([a.url, b.url], 4);
    await expect.poll(() => traffic.tally.ok).toBeGreaterThan(50);

    await redis.stop();
    await expect.poll(async () => (await health(a.url)).status).toBe("degraded");
    const degraded = await health(b.url);
    expect(degraded.status).toBe("degraded");
    expect(degraded.reason).toMatch(/Redis is unreachable since .*calls are served, rate limits use/);
    const info = await a.monitor.getServerInfo({});
    expect(info.status).toBe(ServerStatus.DEGRADED);
    expect(info.statusReason).toMatch(/Redis is unreachable/);
    const duringOutage = traffic.tally.ok;
    await expect.poll(() => traffic.tally.ok).toBeGreaterThan(duringOutage + 100);

    await redis.start();
    await expect.poll(async () => (await health(a.url)).status, { timeout: 10_000 }).toBe("serving");
    await expect.poll(async () => (await health(b.url)).status, { timeout: 10_000 }).toBe("serving");
    const afterRecovery = traffic.tally.ok;
    await expect.poll(() => traffic.tally.ok).toBeGreaterThan(afterRecovery + 50);
    const tally = await traffic.stop();

    expect(tally.failed).toEqual([]);
    // Every call's events reached the shared stream, the ones made during the outage included.
    const shared = a.settings.redis;
    if (shared === undefined) throw new Error("no redis client");
    await expect
      .poll(async () => {
        const entries = await shared.xrange("toolwire:events", "-", "+");
        const succeeded = new Set<string>();
        for (const [, fields] of entries) {
          const event = JSON.parse(fields[1] ?? "{}") as { type: string; requestId: string };
          if (event.type === "tool_succeeded") succeeded.add(event.requestId);
        }
        return tally.requestIds.filter((id) => !succeeded.has(id)).length;
      }, { timeout: 10_000 })
      .toBe(0);
    // Watchers heard about both changes.
    const degradedEvent = await waitForEvent(a.monitor, (e) => e.type === EventType.SERVER_STATUS && e.status === ServerStatus.DEGRADED, 0n);
    expect(degradedEvent?.message).toMatch(/Redis is unreachable/);
  });

  it("tells live watchers out_of_range when an instance's event buffer overflowed while Redis was away", async () => {
    redis = await startRestartableRedis();
    const a = await instance(redis.url, { redis: { eventBufferSize: 5 } });
    const b = await instance(redis.url);
    await toolClient(a.url).callTool({ name: "echo", arguments: { message: "before" } });
    // A live watcher on b, subscribed before the outage.
    const watching = waitForEvent(b.monitor, () => false).then(
      () => undefined,
      (e: unknown) => ConnectError.from(e),
    );
    await new Promise((r) => setTimeout(r, 100));
    await redis.stop();
    await expect.poll(async () => (await health(a.url)).status).toBe("degraded");
    for (let i = 0; i < 10; i++) await toolClient(a.url).callTool({ name: "echo", arguments: { message: `lost ${i}` } });
    await redis.start();
    const err = await watching;
    expect(err?.code).toBe(Code.OutOfRange);
    expect(err?.rawMessage).toMatch(/no longer in the replay buffer/);
  });

  it("keeps rate limits per instance while Redis is away with the local fallback", async () => {
    redis = await startRestartableRedis();
    const a = await instance(redis.url, { tools: [budgeted], redis: { rateLimitFallback: "local" } });
    await redis.stop();
    const calls = toolClient(a.url);
    for (let i = 0; i < 3; i++) await calls.callTool({ name: "budgeted", arguments: {} });
    const err = await calls.callTool({ name: "budgeted", arguments: {} }).then(
      () => undefined,
      (e: unknown) => ConnectError.from(e),
    );
    expect(err?.code).toBe(Code.ResourceExhausted);
  });

  it("lets rate-limited calls through while Redis is away with the fail-open fallback", async () => {
    redis = await startRestartableRedis();
    const a = await instance(redis.url, { tools: [budgeted], redis: { rateLimitFallback: "fail-open" } });
    await redis.stop();
    const calls = toolClient(a.url);
    for (let i = 0; i < 6; i++) expect((await calls.callTool({ name: "budgeted", arguments: {} })).isError).toBe(false);
  });

  it("refuses rate-limited calls with unavailable while Redis is away with the fail-closed fallback, and serves the others", async () => {
    redis = await startRestartableRedis();
    const a = await instance(redis.url, { tools: [budgeted, echo], redis: { rateLimitFallback: "fail-closed" } });
    const calls = toolClient(a.url);
    expect((await calls.callTool({ name: "budgeted", arguments: {} })).isError).toBe(false);
    await redis.stop();
    const err = await calls.callTool({ name: "budgeted", arguments: {} }).then(
      () => undefined,
      (e: unknown) => ConnectError.from(e),
    );
    expect(err?.code).toBe(Code.Unavailable);
    expect(err?.rawMessage).toMatch(/rate limit store \(Redis\) is unreachable/);
    expect((await calls.callTool({ name: "echo", arguments: { message: "still here" } })).isError).toBe(false);
    await redis.start();
    await expect.poll(async () => (await health(a.url)).status, { timeout: 10_000 }).toBe("serving");
    expect((await calls.callTool({ name: "budgeted", arguments: {} })).isError).toBe(false);
  });

  it("starts degraded when Redis is down and onUnavailable is degraded, then joins once Redis is up", async () => {
    redis = await startRestartableRedis();
    await redis.stop();
    const a = await instance(redis.url, { redis: { onUnavailable: "degraded" } });
    const report = await health(a.url);
    expect(report.status).toBe("degraded");
    expect(report.reason).toMatch(/Redis is unreachable/);
    expect((await toolClient(a.url).callTool({ name: "echo", arguments: { message: "served" } })).isError).toBe(false);
    await redis.start();
    await expect.poll(async () => (await health(a.url)).status, { timeout: 10_000 }).toBe("serving");
    const b = await instance(redis.url);
    await expect.poll(async () => (await b.monitor.getServerInfo({})).peers.map((p) => p.serverId)).toEqual([a.server.serverId]);
  });

  it("refuses to start when Redis is down and onUnavailable is left at refuse", async () => {
    redis = await startRestartableRedis();
    await redis.stop();
    await expect(startInstance(redis.url)).rejects.toThrow(/cannot reach Redis at redis:\/\/127\.0\.0\.1:\d+.*onUnavailable/);
  });
});
