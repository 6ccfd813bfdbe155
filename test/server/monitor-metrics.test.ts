import { Code, ConnectError } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { echo } from "../../src/tools/echo.js";
import { toolClient, type TestServer } from "../helpers/server.js";
import { createTestTools } from "../helpers/test-tools.js";
import { monitorClient, readWatch, startMonitoredServer } from "./monitor-helpers.js";

/** One sample of the Prometheus text format: name, labels and value. */
interface Sample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

/** Parses the Prometheus text exposition format (the subset prom-client writes). */
function parseMetrics(text: string): { samples: Sample[]; types: Map<string, string> } {
  const samples: Sample[] = [];
  const types = new Map<string, string>();
  for (const line of text.split("\n")) {
    if (line === "") continue;
    const type = /^# TYPE (\S+) (\S+)$/.exec(line);
    if (type !== null) types.set(type[1] as string, type[2] as string);
    if (line.startsWith("#")) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (match === null) throw new Error(`not a Prometheus sample line: ${line}`);
    const labels: Record<string, string> = {};
    for (const [, key, value] of (match[2] ?? "").matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[key as string] = value as string;
    samples.push({ name: match[1] as string, labels, value: Number(match[3]) });
  }
  return { samples, types };
}

function value(samples: readonly Sample[], name: string, labels: Record<string, string> = {}): number | undefined {
  return samples.find((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))?.value;
}

async function scrape(url: string) {
  const res = await fetch(`${url}/metrics`);
  expect(res.status).toBe(200);
  expect(res.headers.get("content-type")).toBe("text/plain; version=0.0.4; charset=utf-8");
  return parseMetrics(await res.text());
}

let server: TestServer;
beforeAll(async () => {
  server = await startMonitoredServer({ tools: [echo, ...createTestTools().tools] });
  const tools = toolClient(server.url);
  const ignore = () => undefined;
  for (let i = 0; i < 3; i++) await tools.callTool({ name: "echo", arguments: { message: "hi" } });
  await tools.callTool({ name: "refuse" });
  await tools.callTool({ name: "members" }).catch(ignore);
  for (let i = 0; i < 4; i++) await tools.callTool({ name: "limited" }).catch(ignore);
  await tools.callTool({ name: "no-such-tool" }).catch(ignore);
  await tools.callTool({ name: "echo", arguments: { message: 1 } }).catch(ignore);
});
afterAll(() => server.close());

describe("GET /metrics", () => {
  it("counts calls by tool, version, outcome and code", async () => {
    const { samples, types } = await scrape(server.url);
    expect(types.get("toolwire_tool_calls_total")).toBe("counter");
    const calls = (labels: Record<string, string>) => value(samples, "toolwire_tool_calls_total", labels);
    expect(calls({ tool: "echo", version: "1.0.0", outcome: "success", code: "ok" })).toBe(3);
    expect(calls({ tool: "echo", version: "1.0.0", outcome: "failure", code: "invalid_argument" })).toBe(1);
    expect(calls({ tool: "refuse", version: "1.0.0", outcome: "failure", code: "tool_error" })).toBe(1);
    expect(calls({ tool: "members", version: "", outcome: "denied", code: "unauthenticated" })).toBe(1);
    expect(calls({ tool: "limited", version: "1.0.0", outcome: "success", code: "ok" })).toBe(3);
    expect(calls({ tool: "limited", version: "1.0.0", outcome: "rate_limited", code: "resource_exhausted" })).toBe(1);
    // A name nobody registered does not become a label value: callers cannot blow up cardinality.
    expect(calls({ tool: "_unknown", version: "", outcome: "failure", code: "not_found" })).toBe(1);
    expect(samples.some((s) => s.labels.tool === "no-such-tool")).toBe(false);
  });

  it("has duration histograms per tool, version and outcome", async () => {
    const { samples, types } = await scrape(server.url);
    expect(types.get("toolwire_tool_call_duration_seconds")).toBe("histogram");
    const labels = { tool: "echo", version: "1.0.0", outcome: "success" };
    expect(value(samples, "toolwire_tool_call_duration_seconds_count", labels)).toBe(3);
    expect(value(samples, "toolwire_tool_call_duration_seconds_bucket", { ...labels, le: "+Inf" })).toBe(3);
    expect(value(samples, "toolwire_tool_call_duration_seconds_sum", labels)).toBeGreaterThan(0);
    const buckets = samples.filter((s) => s.name === "toolwire_tool_call_duration_seconds_bucket" && s.labels.tool === "echo" && s.labels.outcome === "success");
    // Cumulative buckets never decrease.
    expect(buckets.map((b) => b.value)).toEqual([...buckets.map((b) => b.value)].sort((a, b) => a - b));
  });

  it("counts denials and rate-limit hits", async () => {
    const { samples } = await scrape(server.url);
    expect(value(samples, "toolwire_tool_denials_total", { tool: "members", code: "unauthenticated" })).toBe(1);
    expect(value(samples, "toolwire_rate_limit_hits_total", { tool: "limited" })).toBe(1);
  });

  it("shows in-flight calls, event subscribers and dropped subscribers as they change", async () => {
    const test = createTestTools();
    const live = await startMonitoredServer({ tools: test.tools, monitoring: { subscriberQueueSize: 1 } });
    try {
      let samples = (await scrape(live.url)).samples;
      expect(value(samples, "toolwire_tool_calls_in_flight")).toBe(0);
      expect(value(samples, "toolwire_event_subscribers")).toBe(0);
      expect(value(samples, "toolwire_event_subscribers_dropped_total")).toBe(0);
      expect(value(samples, "toolwire_registered_tools")).toBe(test.tools.length);

      const controller = new AbortController();
      const hanging = toolClient(live.url).callTool({ name: "hang" }, { signal: controller.signal }).catch((err: unknown) => ConnectError.from(err));
      await test.probe.started(1);
      const client = monitorClient(live.url, createGrpcTransport({ baseUrl: live.url }));
      let watching: ReturnType<typeof readWatch> | undefined;
      await new Promise<void>((resolve) => {
        watching = readWatch(
          (signal) => client.watchEvents({}, { signal }),
          () => false,
          (message) => {
            if (message.kind.case === "heartbeat") resolve();
          },
        );
      });
      samples = (await scrape(live.url)).samples;
      expect(value(samples, "toolwire_tool_calls_in_flight")).toBe(1);
      expect(value(samples, "toolwire_event_subscribers")).toBe(1);

      // Two events in one tick overflow a queue of one.
      live.server.registry.unregister("refuse");
      live.server.registry.unregister("boom");
      expect((await watching)?.error?.code).toBe(Code.ResourceExhausted);
      controller.abort();
      await hanging;
      samples = (await scrape(live.url)).samples;
      expect(value(samples, "toolwire_event_subscribers")).toBe(0);
      expect(value(samples, "toolwire_event_subscribers_dropped_total")).toBe(1);
      // The server learns of the cancel a moment after the client gives up.
      await expect.poll(async () => value((await scrape(live.url)).samples, "toolwire_tool_calls_in_flight")).toBe(0);
    } finally {
      await live.close();
    }
  });

  it("includes the default process metrics", async () => {
    const { samples, types } = await scrape(server.url);
    for (const name of ["process_cpu_user_seconds_total", "process_resident_memory_bytes", "nodejs_eventloop_lag_seconds", "nodejs_heap_size_used_bytes"]) {
      expect(types.has(name), name).toBe(true);
    }
    expect(value(samples, "process_cpu_user_seconds_total")).toBeGreaterThan(0);
  });

  it("keeps two servers in one process apart", async () => {
    const other = await startMonitoredServer({ tools: [echo] });
    try {
      const { samples } = await scrape(other.url);
      expect(value(samples, "toolwire_tool_calls_total", { tool: "echo" })).toBeUndefined();
      await toolClient(other.url).callTool({ name: "echo", arguments: { message: "x" } });
      expect(value((await scrape(other.url)).samples, "toolwire_tool_calls_total", { tool: "echo", outcome: "success" })).toBe(1);
      expect(value((await scrape(server.url)).samples, "toolwire_tool_calls_total", { tool: "echo", outcome: "success" })).toBe(3);
    } finally {
      await other.close();
    }
  });

  it("answers HEAD with headers only and refuses other methods", async () => {
    const head = await fetch(`${server.url}/metrics`, { method: "HEAD" });
    expect(head.status).toBe(200);
    expect(await head.text()).toBe("");
    const post = await fetch(`${server.url}/metrics`, { method: "POST" });
    expect(post.status).toBe(405);
    expect(await post.json()).toEqual({ code: "unimplemented", message: "POST /metrics is not supported; use GET" });
  });
});
