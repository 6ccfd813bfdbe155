import { describe, expect, it } from "vitest";
import { createUsageStats, summarize } from "../../src/client/index.js";

describe("summarize", () => {
  it("computes nearest-rank percentiles, mean and max", () => {
    const durations = Array.from({ length: 100 }, (_, i) => i + 1);
    expect(summarize(durations)).toEqual({ p50Ms: 50, p95Ms: 95, p99Ms: 99, meanMs: 50.5, maxMs: 100, count: 100 });
  });

  it("answers zeros for no durations", () => {
    expect(summarize([])).toEqual({ p50Ms: 0, p95Ms: 0, p99Ms: 0, meanMs: 0, maxMs: 0, count: 0 });
  });
});

describe("usage stats", () => {
  it("counts successes and failures by code per tool", () => {
    const stats = createUsageStats();
    stats.record("echo", "ok", 1);
    stats.record("echo", "tool_error", 2);
    stats.record("echo", "unavailable", 3);
    stats.record("echo", "unavailable", 4);
    expect(stats.get("echo")).toMatchObject({
      calls: 4,
      successes: 1,
      errors: 3,
      errorsByCode: { tool_error: 1, unavailable: 2 },
    });
    expect(stats.get("calculator")).toBeUndefined();
  });

  it("bases latency on the most recent calls only, keeping memory bounded", () => {
    const stats = createUsageStats({ window: 10 });
    for (let i = 0; i < 1_000; i++) stats.record("slow", "ok", i < 990 ? 1_000 : 5);
    const s = stats.get("slow");
    expect(s?.calls).toBe(1_000);
    expect(s?.latency).toEqual({ p50Ms: 5, p95Ms: 5, p99Ms: 5, meanMs: 5, maxMs: 5, count: 10 });
  });

  it("lists every tool sorted by name and forgets them on reset", () => {
    const stats = createUsageStats();
    stats.record("b", "ok", 1);
    stats.record("a", "ok", 1);
    expect(stats.all().map((s) => s.name)).toEqual(["a", "b"]);
    stats.reset();
    expect(stats.all()).toEqual([]);
  });
});
