import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { MonitorService, ServerStatus, StatsScope } from "../../gen/proto/toolwire/v1/monitor_service_pb.js";
import { createClientManager, createSimpleClient } from "../../src/client/index.js";
import { createMonitoring } from "../../src/server/monitoring.js";
import { calculator, echo } from "../../src/tools/index.js";
import { startRedis, type TestRedis } from "../helpers/redis.js";
import { startServer, toolClient } from "../helpers/server.js";
import { startInstance, type Instance } from "./cluster-helpers.js";

describe("cluster membership and statistics through Redis", () => {
  let redis: TestRedis;
  const instances: Instance[] = [];

  beforeAll(async () => {
    redis = await startRedis();
  });
  afterEach(async () => {
    for (const instance of instances.splice(0)) await instance.stop();
    await redis.client.flushall();
  });
  afterAll(() => redis.stop());

  async function instance(options?: Parameters<typeof startInstance>[1]): Promise<Instance> {
    const started = await startInstance(redis.url, options);
    instances.push(started);
    return started;
  }

  it("lists the live peers with their address, version and tools in GetServerInfo", async () => {
    const a = await instance({ tools: [echo] });
    const b = await instance({ tools: [echo, calculator] });
    await expect.poll(async () => (await a.monitor.getServerInfo({})).peers.map((p) => p.serverId)).toEqual([b.server.serverId]);
    const info = await a.monitor.getServerInfo({});
    expect(info.status).toBe(ServerStatus.SERVING);
    const peer = info.peers[0];
    expect(peer?.url).toBe(b.url);
    expect(peer?.tools.sort()).toEqual(["calculator", "echo"]);
    expect(peer?.version).toBe(info.version);
    expect(peer?.lastSeen).toBeDefined();
    await expect.poll(async () => (await b.monitor.getServerInfo({})).peers.map((p) => p.serverId)).toEqual([a.server.serverId]);
  });

  it("drops a peer from the list once it stops", async () => {
    const a = await instance();
    const b = await instance();
    await expect.poll(async () => (await a.monitor.getServerInfo({})).peers.length).toBe(1);
    instances.splice(instances.indexOf(b), 1);
    await b.stop();
    await expect.poll(async () => (await a.monitor.getServerInfo({})).peers.length).toBe(0);
  });

  it("drops a peer that stops announcing itself once its announcement expires", async () => {
    const a = await instance();
    const b = await instance();
    await expect.poll(async () => (await a.monitor.getServerInfo({})).peers.length).toBe(1);
    // Cut b's Redis connection without a goodbye, as a crash would.
    b.settings.redis?.disconnect();
    await expect.poll(async () => (await a.monitor.getServerInfo({})).peers.length, { timeout: 5_000 }).toBe(0);
  });

  it("adds up the statistics of every instance for STATS_SCOPE_CLUSTER and keeps its own for STATS_SCOPE_INSTANCE", async () => {
    const a = await instance();
    const b = await instance();
    for (let i = 0; i < 3; i++) await toolClient(a.url).callTool({ name: "echo", arguments: { message: `a${i}` } });
    for (let i = 0; i < 2; i++) await toolClient(b.url).callTool({ name: "echo", arguments: { message: `b${i}` } });
    await toolClient(b.url).callTool({ name: "echo", arguments: {} }).catch(() => undefined);

    const local = await a.monitor.getStats({ scope: StatsScope.INSTANCE });
    expect(local.scope).toBe(StatsScope.INSTANCE);
    expect(local.tools.find((t) => t.name === "echo")?.calls).toBe(3n);

    // b publishes with each heartbeat; poll until its latest figures arrived.
    await expect.poll(async () => (await a.monitor.getStats({ scope: StatsScope.CLUSTER })).tools.find((t) => t.name === "echo")?.calls).toBe(6n);
    const cluster = await a.monitor.getStats({ scope: StatsScope.CLUSTER, tools: ["echo"] });
    expect(cluster.scope).toBe(StatsScope.CLUSTER);
    const echoStats = cluster.tools[0];
    expect(echoStats?.successes).toBe(5n);
    expect(echoStats?.failuresByCode).toEqual({ invalid_argument: 1n });
    // Percentiles over the union of both latency windows: five calls ran.
    expect(echoStats?.latency?.count).toBe(5n);
    expect(cluster.server?.requests).toBe(6n);
  });

  it("lets a ClientManager discover every instance from the one it knows, and call tools on them", async () => {
    const a = await instance();
    const b = await instance();
    const c = await instance();
    await expect.poll(async () => (await a.monitor.getServerInfo({})).peers.length).toBe(2);
    const manager = createClientManager();
    manager.addClient("seed", createSimpleClient(a.url));
    const added = await manager.discover("seed", (url) => createSimpleClient(url));
    expect(added.sort()).toEqual([b.server.serverId, c.server.serverId].sort());
    expect(Object.values(manager.servers()).map((s) => s.url).sort()).toEqual([a.url, b.url, c.url].sort());
    // Nothing new the second time.
    expect(await manager.discover("seed", (url) => createSimpleClient(url))).toEqual([]);
    for (let i = 0; i < 3; i++) expect((await manager.call("echo", { message: `m${i}` })).isError).toBe(false);
    expect(Object.values(manager.servers()).every((s) => s.calls === 1)).toBe(true);
    await manager.disconnectAll();
  });

  it("refuses STATS_SCOPE_CLUSTER with failed_precondition on an instance without Redis", async () => {
    const alone = await startServer({ tools: [echo], extensions: [createMonitoring({ processMetrics: false, logCalls: false })] });
    try {
      const monitor = createClient(MonitorService, createConnectTransport({ baseUrl: alone.url, httpVersion: "1.1" }));
      const err = await monitor.getStats({ scope: StatsScope.CLUSTER }).then(
        () => undefined,
        (e: unknown) => ConnectError.from(e),
      );
      expect(err?.code).toBe(Code.FailedPrecondition);
      expect((await monitor.getServerInfo({})).peers).toEqual([]);
    } finally {
      await alone.close();
    }
  });
});
