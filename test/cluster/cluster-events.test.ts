import { rm } from "node:fs/promises";
import { dirname } from "node:path";
import { Code, ConnectError, createClient, type Client } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { ErrorInfoSchema } from "../../gen/proto/toolwire/v1/errors_pb.js";
import { EventType, MonitorService, type Event } from "../../gen/proto/toolwire/v1/monitor_service_pb.js";
import { toolClient } from "../helpers/server.js";
import { startRedis, type TestRedis } from "../helpers/redis.js";
import { killChild } from "../helpers/processes.js";
import { spawnServe, type ServeProcess } from "../helpers/serve-process.js";
import { collect, startInstance, writeConfig, type Instance } from "./cluster-helpers.js";

/** Opens a live watch and resolves once the server has sent its first message (the stream is subscribed). */
async function liveWatch(monitor: Client<typeof MonitorService>, count: number) {
  const abort = new AbortController();
  const stream = monitor.watchEvents({ types: [EventType.TOOL_SUCCEEDED] }, { signal: abort.signal })[Symbol.asyncIterator]();
  // The first message is a heartbeat sent as soon as the subscription exists.
  await stream.next();
  const events = (async () => {
    const got: Event[] = [];
    while (got.length < count) {
      const { value, done } = await stream.next();
      if (done === true) break;
      if (value.kind.case === "event") got.push(value.kind.value);
    }
    abort.abort();
    return got;
  })();
  return events;
}

describe("events shared through Redis Streams", () => {
  let redis: TestRedis;
  const instances: Instance[] = [];
  const children: ServeProcess[] = [];

  beforeAll(async () => {
    redis = await startRedis();
  });
  afterEach(async () => {
    for (const instance of instances.splice(0)) await instance.stop();
    for (const child of children.splice(0)) await killChild(child.child, "SIGKILL");
    await redis.client.flushall();
  });
  afterAll(() => redis.stop());

  async function instance(options?: Parameters<typeof startInstance>[1]): Promise<Instance> {
    const started = await startInstance(redis.url, options);
    instances.push(started);
    return started;
  }

  it("shows watchers on every instance every instance's events in one cluster-wide order", async () => {
    const a = await instance();
    const b = await instance();
    // A heartbeat interval of 0 means no heartbeats; the first message is still one, so use the
    // live watch only after a first event makes the store known on both.
    await toolClient(a.url).callTool({ name: "echo", arguments: { message: "warm-up" } });
    const onA = liveWatch(a.monitor, 20);
    const onB = liveWatch(b.monitor, 20);
    const callsA = toolClient(a.url);
    const callsB = toolClient(b.url);
    await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        Promise.all([callsA.callTool({ name: "echo", arguments: { message: `a${i}` } }), callsB.callTool({ name: "echo", arguments: { message: `b${i}` } })]),
      ),
    );
    const [seenOnA, seenOnB] = await Promise.all([onA, onB]);
    const view = (events: Event[]) => events.map((e) => `${e.sequence}:${e.serverId}:${e.requestId}`);
    expect(view(seenOnA)).toEqual(view(seenOnB));
    expect(new Set(seenOnA.map((e) => e.serverId))).toEqual(new Set([a.server.serverId, b.server.serverId]));
    // One counter for the cluster: strictly increasing, no duplicates.
    const sequences = seenOnA.map((e) => e.sequence);
    for (let i = 1; i < sequences.length; i++) expect(sequences[i]).toBeGreaterThan(sequences[i - 1] as bigint);
  });

  it("resumes on another instance from the sequence seen on an instance killed with SIGKILL", async () => {
    const first = await spawnServe([], { TOOLWIRE_REDIS_URL: redis.url });
    children.push(first);
    const survivor = await instance();
    const calls = toolClient(first.url);
    for (let i = 0; i < 6; i++) await calls.callTool({ name: "echo", arguments: { message: `before ${i}` } });
    const watcher = createClient(MonitorService, createGrpcTransport({ baseUrl: first.url }));
    const seen = await collect(watcher, 3, 0n);
    expect(seen.every((e) => e.serverId !== survivor.server.serverId)).toBe(true);
    const last = seen[2]?.sequence ?? 0n;

    await killChild(first.child, "SIGKILL");
    for (let i = 0; i < 2; i++) await toolClient(survivor.url).callTool({ name: "echo", arguments: { message: `after ${i}` } });

    const resumed = await collect(survivor.monitor, 5, last);
    // The three the killed instance recorded but the watcher had not read yet, then the survivor's two.
    expect(resumed.map((e) => e.serverId)).toEqual([...Array(3).fill(seen[0]?.serverId), ...Array(2).fill(survivor.server.serverId)]);
    expect(resumed[0]?.sequence).toBeGreaterThan(last);
    for (let i = 1; i < resumed.length; i++) expect(resumed[i]?.sequence).toBeGreaterThan(resumed[i - 1]?.sequence as bigint);
    const requestIds = new Set([...seen, ...resumed].map((e) => e.requestId));
    expect(requestIds.size).toBe(8);
  });

  it("answers out_of_range for events the bounded stream no longer holds, on any instance", async () => {
    const a = await instance({ redis: { eventStreamLength: 100 } });
    const b = await instance({ redis: { eventStreamLength: 100 } });
    const calls = toolClient(a.url);
    const firstEvents = await (async () => {
      await calls.callTool({ name: "echo", arguments: { message: "first" } });
      return collect(b.monitor, 1, 0n);
    })();
    const firstSequence = firstEvents[0]?.sequence ?? 0n;
    // Three events per call (called, succeeded, and more); well past the retention.
    for (let i = 0; i < 150; i++) await calls.callTool({ name: "echo", arguments: { message: `fill ${i}` } });
    await expect.poll(async () => (await redis.client.xlen("toolwire:events")) < 300).toBe(true);
    const err = await collect(b.monitor, 1, firstSequence).then(
      () => undefined,
      (e: unknown) => ConnectError.from(e),
    );
    expect(err?.code).toBe(Code.OutOfRange);
    expect(err?.rawMessage).toMatch(/no longer in the replay buffer/);
  });

  it("trims events older than eventMaxAgeMs and answers out_of_range naming the gap, as for the length limit", async () => {
    const a = await instance({ redis: { eventMaxAgeMs: 1000 } });
    const b = await instance({ redis: { eventMaxAgeMs: 1000 } });
    const calls = toolClient(a.url);
    for (let i = 0; i < 3; i++) await calls.callTool({ name: "echo", arguments: { message: `old ${i}` } });
    const old = await collect(b.monitor, 3, 0n);
    const firstOld = old[0]?.sequence ?? 0n;
    const lastOld = old[2]?.sequence ?? 0n;
    expect(await redis.client.xlen("toolwire:events")).toBeGreaterThanOrEqual(6);

    // Just past the age (plus its 1 % trim slack); nothing is appended meanwhile, so it is the
    // replay read that trims.
    await new Promise((resolve) => setTimeout(resolve, 1_200));
    const resumeOld = (after: bigint) =>
      collect(b.monitor, 1, after).then(
        () => undefined,
        (e: unknown) => ConnectError.from(e),
      );
    const idle = await resumeOld(firstOld);
    expect(idle?.code).toBe(Code.OutOfRange);
    expect(await redis.client.xlen("toolwire:events")).toBe(0);

    for (let i = 0; i < 2; i++) await calls.callTool({ name: "echo", arguments: { message: `new ${i}` } });
    const err = await resumeOld(firstOld);
    expect(err?.code).toBe(Code.OutOfRange);
    const info = err?.findDetails(ErrorInfoSchema)[0];
    expect(info?.reason).toBe("EVENTS_OUT_OF_RANGE");
    const oldest = BigInt(info?.metadata.oldestSequence ?? "0");
    expect(oldest).toBeGreaterThan(lastOld);
    // The same words as a length trim, naming the events that are gone.
    expect(err?.rawMessage).toContain(`cannot resume after sequence ${firstOld}: events ${firstOld + 1n} to ${oldest - 1n} are no longer in the replay buffer`);

    // Resuming just before the oldest held event replays the newer ones, on either instance.
    for (const watcher of [a.monitor, b.monitor]) {
      const replayed = await collect(watcher, 2, oldest - 1n);
      expect(replayed.map((e) => e.sequence > lastOld)).toEqual([true, true]);
      expect(replayed.map((e) => e.serverId)).toEqual([a.server.serverId, a.server.serverId]);
    }
    // What is held carries Redis's time of arrival, so the age is one clock for every instance.
    const entries = (await redis.client.xrange("toolwire:events", "-", "+")) as [string, string[]][];
    expect(entries.length).toBeGreaterThan(0);
    for (const [, fields] of entries) expect(fields[2]).toBe("t");
  });

  it("takes eventMaxAgeMs from the config file of toolwire serve", async () => {
    const config = await writeConfig({ redis: { url: redis.url, eventMaxAgeMs: 60_000 } });
    try {
      const served = await spawnServe(["--config", config]);
      children.push(served);
      await toolClient(served.url).callTool({ name: "echo", arguments: { message: "aged" } });
      await expect.poll(() => redis.client.xlen("toolwire:events")).toBeGreaterThan(0);
      // Entries carry their arrival time only when an age limit is configured.
      const entries = (await redis.client.xrange("toolwire:events", "-", "+")) as [string, string[]][];
      for (const [, fields] of entries) expect(fields[2]).toBe("t");
    } finally {
      await rm(dirname(config), { recursive: true, force: true });
    }
  });

  it("answers out_of_range for a sequence the cluster never gave out", async () => {
    const a = await instance();
    await toolClient(a.url).callTool({ name: "echo", arguments: { message: "x" } });
    const err = await collect(a.monitor, 1, 2n ** 60n).then(
      () => undefined,
      (e: unknown) => ConnectError.from(e),
    );
    expect(err?.code).toBe(Code.OutOfRange);
  });
});
