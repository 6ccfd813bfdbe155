import { Code, ConnectError } from "@connectrpc/connect";
import { Redis } from "ioredis";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { createEventBus, createRedisEventStore, type EventBus, type EventSubscription, type RedisEventStore } from "../../src/events/index.js";
import { echoCalledDraft } from "../helpers/event-drafts.js";
import { startRedis, type TestRedis } from "../helpers/redis.js";
import { startTcpProxy, type TcpProxy } from "../helpers/tcp-proxy.js";

const stream = "toolwire:events";

/** The first event of a subscription (skipping heartbeats), or an error after `ms`. */
async function firstEvent(subscription: EventSubscription, ms: number) {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`no event within ${ms} ms`)), ms)));
  const read = (async () => {
    for await (const item of subscription) if (item.kind === "event") return item.event;
    throw new Error("the subscription ended without an event");
  })();
  try {
    return await Promise.race([read, timeout]);
  } finally {
    clearTimeout(timer);
    subscription.close();
  }
}

describe("Redis event store: replay and live events meet without a gap", () => {
  let redis: TestRedis;
  let proxy: TcpProxy;
  const stores: RedisEventStore[] = [];
  const buses: EventBus[] = [];
  const clients: Redis[] = [];

  beforeAll(async () => {
    redis = await startRedis();
    proxy = await startTcpProxy(redis.port);
  });
  afterEach(async () => {
    for (const bus of buses.splice(0)) await bus.close();
    for (const store of stores.splice(0)) await store.close();
    for (const client of clients.splice(0)) client.disconnect();
    proxy.holdNew(0);
    await redis.client.flushall();
  });
  afterAll(async () => {
    await proxy.close();
    await redis.stop();
  });

  it("delivers an event another instance appended while this one was still joining, to a watcher that had already replayed the history", async () => {
    const other = createRedisEventStore({ redis: redis.client, serverId: "other" });
    stores.push(other);
    other.append(echoCalledDraft("history"));
    await expect.poll(() => redis.client.xlen(stream)).toBe(1);

    // The shared client is connected; the tail connection the store opens next is slow to come up.
    const shared = new Redis(proxy.url.replace("http:", "redis:"), { lazyConnect: true, enableOfflineQueue: false, maxRetriesPerRequest: 1 });
    clients.push(shared);
    await shared.connect();
    proxy.holdNew(1_000);
    const joining = createRedisEventStore({ redis: shared, serverId: "joining" });
    stores.push(joining);
    const bus = createEventBus({ store: joining, heartbeatIntervalMs: 0 });
    buses.push(bus);
    const subscription = await bus.subscribe({ afterSequence: 0 });
    const items = subscription[Symbol.asyncIterator]();
    const seen: string[] = [];
    const reading = (async () => {
      for (let item = await items.next(); item.done !== true; item = await items.next()) {
        if (item.value.kind !== "event") continue;
        seen.push(item.value.event.requestId);
        if (seen.length === 2) return;
      }
    })();
    await expect.poll(() => seen).toEqual(["history"]);
    // Let the replay find nothing newer and turn to live events, then append before the tail is up.
    await new Promise((resolve) => setTimeout(resolve, 200));
    other.append(echoCalledDraft("while joining"));
    await expect.poll(() => redis.client.xlen(stream)).toBe(2);

    await expect.poll(() => seen, { timeout: 5_000 }).toEqual(["history", "while joining"]);
    await reading;
    subscription.close();
  });

  it("hands a watcher that asked for everything of a still-empty stream the first events appended later, with no false gap", async () => {
    // A flushed Redis has no counter yet: numbering starts at the first appender's clock, far
    // above the 0 this store can report, which must not read as events trimmed away.
    const watched = createRedisEventStore({ redis: redis.client, serverId: "watched" });
    stores.push(watched);
    const bus = createEventBus({ store: watched, heartbeatIntervalMs: 0 });
    buses.push(bus);
    const subscription = await bus.subscribe({ afterSequence: 0 });

    const other = createRedisEventStore({ redis: redis.client, serverId: "other" });
    stores.push(other);
    other.append(echoCalledDraft("r1"));
    await expect.poll(() => redis.client.xlen(stream)).toBe(1);

    const event = await firstEvent(subscription, 3_000);
    expect(event.serverId).toBe("other");
    expect(event.sequence).toBeGreaterThan(1);
  });

  it("answers unavailable, rather than risk a gap, when the store has not joined the stream in time", async () => {
    const shared = new Redis(proxy.url.replace("http:", "redis:"), { lazyConnect: true, enableOfflineQueue: false, maxRetriesPerRequest: 1 });
    clients.push(shared);
    await shared.connect();
    proxy.holdNew(5_000);
    const joining = createRedisEventStore({ redis: shared, serverId: "joining", blockMs: 300 });
    stores.push(joining);
    const bus = createEventBus({ store: joining, heartbeatIntervalMs: 0 });
    buses.push(bus);
    for (const afterSequence of [0, undefined]) {
      const err = await bus.subscribe({ afterSequence }).then(
        () => undefined,
        (e: unknown) => ConnectError.from(e),
      );
      expect(err?.code).toBe(Code.Unavailable);
      expect(err?.rawMessage).toContain("has not joined the shared event stream within 300 ms");
    }
  });

  it("answers a replay read with unavailable while Redis is away, rather than waiting to join", async () => {
    const shared = new Redis(proxy.url.replace("http:", "redis:"), { lazyConnect: true, enableOfflineQueue: false, maxRetriesPerRequest: 1, retryStrategy: () => 50 });
    clients.push(shared);
    shared.on("error", () => {
      // Expected: the proxy refuses every connection.
    });
    proxy.cut();
    try {
      await shared.connect().catch(() => undefined);
      // Waiting to join would outlast the test.
      const joining = createRedisEventStore({ redis: shared, serverId: "joining", blockMs: 60_000 });
      stores.push(joining);
      await expect(joining.read(0, 10)).rejects.toThrow(/the shared event store \(Redis\) cannot be read now/);
    } finally {
      proxy.restore();
    }
  });
});
