import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { createRedisEventStore, type RedisEventStore } from "../../src/events/index.js";
import { startRedis, type TestRedis } from "../helpers/redis.js";

const stream = "toolwire:events";
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe("Redis event store age retention (eventMaxAgeMs)", () => {
  let redis: TestRedis;
  const stores: RedisEventStore[] = [];

  beforeAll(async () => {
    redis = await startRedis();
  });
  afterEach(async () => {
    for (const store of stores.splice(0)) await store.close();
    await redis.client.flushall();
  });
  afterAll(() => redis.stop());

  function store(maxAgeMs?: number): RedisEventStore {
    const created = createRedisEventStore({ redis: redis.client, serverId: "s1", maxAgeMs, blockMs: 200 });
    stores.push(created);
    return created;
  }

  const append = (s: RedisEventStore, n: number) => {
    for (let i = 0; i < n; i++) {
      s.append({
        type: "tool_called",
        toolName: "echo",
        toolVersion: "1.0.0",
        callerId: "anonymous",
        requestId: `r${i}`,
        code: "",
        message: "",
        durationMs: undefined,
        status: undefined,
        arguments: undefined,
      });
    }
  };
  const drained = (s: RedisEventStore) => expect.poll(() => s.buffered).toBe(0);

  it("trims on append: more than a scan batch of expired events go, in one script call", async () => {
    const s = store(1000);
    append(s, 250);
    await drained(s);
    await expect.poll(() => redis.client.xlen(stream)).toBe(250);
    await sleep(1_100);
    append(s, 1);
    await drained(s);
    expect(await redis.client.xlen(stream)).toBe(1);
    const page = await s.read(0, 10);
    expect(page.events).toHaveLength(1);
    expect(page.oldestSequence).toBe(page.newestSequence);
  });

  it("keeps events younger than the age", async () => {
    const s = store(60_000);
    append(s, 5);
    await drained(s);
    await sleep(50);
    append(s, 1);
    await drained(s);
    const page = await s.read(0, 10);
    expect(page.events).toHaveLength(6);
  });

  it("ages entries written without an arrival time by the event's own time", async () => {
    // An entry as a store without an age limit writes it (no 't' field), an hour old.
    const counter = Date.now() * 1000;
    await redis.client.set("toolwire:events:seq", String(counter));
    const old = JSON.stringify({ time: Date.now() - 3_600_000, serverId: "old", type: "tool_called" });
    await redis.client.xadd(stream, `${counter}-0`, "e", old);
    const s = store(1000);
    append(s, 1);
    await drained(s);
    const page = await s.read(0, 10);
    expect(page.events.map((e) => e.serverId)).toEqual(["s1"]);
    expect(page.oldestSequence).toBe(counter + 1);
  });

  it("writes no arrival time and trims nothing by age without a limit", async () => {
    const s = store();
    append(s, 3);
    await drained(s);
    const entries = (await redis.client.xrange(stream, "-", "+")) as [string, string[]][];
    expect(entries).toHaveLength(3);
    for (const [, fields] of entries) expect(fields).toHaveLength(2);
  });

  it("refuses an age below 1 ms", () => {
    expect(() => createRedisEventStore({ redis: redis.client, serverId: "s1", maxAgeMs: 0 })).toThrow(RangeError);
  });
});
