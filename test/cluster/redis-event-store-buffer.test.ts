import { Redis } from "ioredis";
import { afterEach, describe, expect, it } from "vitest";
import { createRedisEventStore, type RedisEventStore } from "../../src/events/index.js";
import { echoCalledDraft } from "../helpers/event-drafts.js";
import { closedPort } from "../helpers/ports.js";

describe("Redis event store buffer while Redis is away", () => {
  const opened: { store: RedisEventStore; redis: Redis }[] = [];
  afterEach(async () => {
    for (const { store, redis } of opened.splice(0)) {
      await store.close();
      redis.disconnect();
    }
  });

  async function awayStore(options: { bufferSize?: number; bufferBytes?: number }): Promise<RedisEventStore> {
    const redis = new Redis({ host: "127.0.0.1", port: await closedPort(), lazyConnect: true, retryStrategy: () => 200 });
    redis.on("error", () => undefined);
    const store = createRedisEventStore({ redis, serverId: "s1", blockMs: 200, ...options });
    opened.push({ store, redis });
    return store;
  }

  it("drops the oldest buffered events once their JSON passes bufferBytes, counting them lost", async () => {
    const store = await awayStore({ bufferSize: 10_000, bufferBytes: 100 * 1024 });
    for (let i = 0; i < 10; i++) store.append(echoCalledDraft(`r${i}`, { message: "x".repeat(30 * 1024) }));
    // Three events of about 30 KiB fit in 100 KiB.
    expect(store.buffered).toBe(3);
    expect(store.lost).toBe(7);
  });

  it("keeps the newest event even when it alone is over bufferBytes, and still bounds by count", async () => {
    const store = await awayStore({ bufferSize: 4, bufferBytes: 1024 });
    store.append(echoCalledDraft("huge", { message: "y".repeat(4096) }));
    expect(store.buffered).toBe(1);
    for (let i = 0; i < 6; i++) store.append(echoCalledDraft(`small${i}`, { message: "z" }));
    expect(store.buffered).toBe(4);
    expect(store.lost).toBe(3);
  });
});
