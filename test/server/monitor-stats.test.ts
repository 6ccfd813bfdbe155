import { Code, ConnectError } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EventType, StatsScope, type Event } from "../../gen/proto/toolwire/v1/monitor_service_pb.js";
import { defineTool } from "../../src/registry/index.js";
import { echo } from "../../src/tools/echo.js";
import { toolClient, type TestServer } from "../helpers/server.js";
import { createTestTools } from "../helpers/test-tools.js";
import { monitorClient, readWatch, startMonitoredServer } from "./monitor-helpers.js";

const nap = defineTool(
  {
    name: "nap",
    version: "1.0.0",
    description: "sleeps for the given milliseconds",
    category: "test",
    input: { type: "object", required: ["ms"], properties: { ms: { type: "integer", minimum: 0, maximum: 1000 } } },
  },
  async (input) => {
    await new Promise((resolve) => setTimeout(resolve, input.ms as number));
    return { slept: input.ms };
  },
);

const napLatencies = [30, 10, 100, 50, 20, 90, 40, 80, 60, 70];

let server: TestServer;
beforeAll(async () => {
  server = await startMonitoredServer({ tools: [echo, nap, ...createTestTools().tools] });
  const tools = toolClient(server.url);
  for (const ms of napLatencies) await tools.callTool({ name: "nap", arguments: { ms } });
  await tools.callTool({ name: "nap", arguments: { ms: -1 } }).catch(() => undefined);
  await tools.callTool({ name: "refuse" });
  await tools.callTool({ name: "members" }).catch(() => undefined);
});
afterAll(() => server.close());

/** Nearest-rank percentile, computed independently of the server's code. */
function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.ceil((p / 100) * sorted.length) - 1] as number;
}

describe("GetStats", () => {
  it("reports per-tool percentiles that match the durations the server measured for each call", async () => {
    // Every ended call's event carries the duration the stats were fed: the known latencies.
    const watch = await readWatch(
      (signal) => monitorClient(server.url).watchEvents({ afterSequence: 0n, tools: ["nap"], types: [EventType.TOOL_SUCCEEDED] }, { signal }),
      (events) => events.length >= napLatencies.length,
    );
    const durations = watch.events.map((e: Event) => Number(e.duration?.seconds ?? 0n) * 1000 + (e.duration?.nanos ?? 0) / 1e6);

    const { tools } = await monitorClient(server.url).getStats({ tools: ["nap"] });
    const stats = tools[0];
    expect(stats?.name).toBe("nap");
    expect(stats?.calls).toBe(11n);
    expect(stats?.successes).toBe(10n);
    expect(stats?.failures).toBe(1n);
    expect(stats?.failuresByCode).toEqual({ invalid_argument: 1n });
    // The refused call never ran: latency covers the ten that did.
    expect(stats?.latency?.count).toBe(10n);
    expect(stats?.latency?.p50Ms).toBeCloseTo(percentile(durations, 50), 4);
    expect(stats?.latency?.p95Ms).toBeCloseTo(percentile(durations, 95), 4);
    expect(stats?.latency?.p99Ms).toBeCloseTo(percentile(durations, 99), 4);
    expect(stats?.latency?.maxMs).toBeCloseTo(Math.max(...durations), 4);
    expect(stats?.latency?.meanMs).toBeCloseTo(durations.reduce((a, b) => a + b, 0) / durations.length, 4);
    // Nearest rank over ten values: p95 and p99 are both the slowest call.
    expect(stats?.latency?.p95Ms).toBe(stats?.latency?.maxMs);
    expect(stats?.latency?.p99Ms).toBe(stats?.latency?.maxMs);
    expect(stats?.latency?.p50Ms).toBeLessThan(stats?.latency?.maxMs ?? 0);
    expect(stats?.lastCallTime).toBeDefined();
  });

  it("lists every called tool, sorted, with failures by code", async () => {
    const { tools } = await monitorClient(server.url).getStats({});
    expect(tools.map((t) => t.name)).toEqual(["members", "nap", "refuse"]);
    expect(tools.find((t) => t.name === "refuse")).toMatchObject({ calls: 1n, successes: 0n, failures: 1n, failuresByCode: { tool_error: 1n } });
    expect(tools.find((t) => t.name === "members")).toMatchObject({ calls: 1n, failures: 1n, failuresByCode: { unauthenticated: 1n } });
  });

  it("answers zeros for a registered tool never called, and not_found for an unknown one", async () => {
    const { tools } = await monitorClient(server.url).getStats({ tools: ["echo"] });
    expect(tools).toHaveLength(1);
    expect(tools[0]).toMatchObject({ name: "echo", calls: 0n, successes: 0n, failures: 0n, latency: { count: 0n } });
    const err = await monitorClient(server.url).getStats({ tools: ["ghost"] }).catch((e: unknown) => ConnectError.from(e));
    expect(err).toBeInstanceOf(ConnectError);
    expect((err as ConnectError).code).toBe(Code.NotFound);
    expect((err as ConnectError).rawMessage).toBe('tool "ghost" is not registered and has no statistics');
  });

  it("describes the registry by category and security level", async () => {
    const { registry } = await monitorClient(server.url).getStats({});
    const size = server.server.registry.size;
    expect(registry?.tools).toBe(size);
    expect(registry?.versions).toBe(size);
    expect(registry?.toolsByCategory).toEqual({ test: size - 2, ops: 1, utility: 1 });
    expect(registry?.toolsBySecurityLevel).toEqual({ public: size - 3, authenticated: 1, restricted: 1, admin: 1 });
  });

  it("describes the server: uptime, requests, errors, open streams, calls in flight and event subscribers", async () => {
    const client = monitorClient(server.url, createGrpcTransport({ baseUrl: server.url }));
    const controller = new AbortController();
    const stream = client.watchEvents({}, { signal: controller.signal })[Symbol.asyncIterator]();
    // The opening heartbeat: the subscription is open.
    await stream.next();
    const stats = await client.getStats({});
    controller.abort();
    await stream.next().catch(() => undefined);
    expect(stats?.scope).toBe(StatsScope.INSTANCE);
    expect(stats?.server).toMatchObject({ requests: 13n, errors: 3n, openStreams: 0, inFlight: 0, eventSubscribers: 1 });
    expect(stats?.server?.uptime).toBeDefined();
  });

  it("refuses cluster statistics on a single instance with failed_precondition", async () => {
    const err = await monitorClient(server.url)
      .getStats({ scope: StatsScope.CLUSTER })
      .catch((e: unknown) => ConnectError.from(e));
    expect((err as ConnectError).code).toBe(Code.FailedPrecondition);
    expect((err as ConnectError).rawMessage).toContain("cluster statistics need a store shared by several instances (Redis)");
    expect((await monitorClient(server.url).getStats({ scope: StatsScope.INSTANCE })).scope).toBe(StatsScope.INSTANCE);
  });

  it("answers curl with JSON, also as a GET", async () => {
    const post = await fetch(`${server.url}/toolwire.v1.MonitorService/GetStats`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ tools: ["refuse"] }),
    });
    expect(await post.json()).toMatchObject({ tools: [{ name: "refuse", calls: "1", failures: "1", failuresByCode: { tool_error: "1" } }], scope: "STATS_SCOPE_INSTANCE" });
    const get = await fetch(`${server.url}/toolwire.v1.MonitorService/GetStats?encoding=json&message=%7B%7D`);
    expect(get.status).toBe(200);
  });
});
