import { describe, expect, it } from "vitest";
import { createUsageStats, LatencyWindow, nearestRank } from "../../src/metrics/index.js";
import type { CallOutcome } from "../../src/runtime/index.js";

function outcome(code: string, durationMs: number, executed = true): CallOutcome {
  return { code, durationMs, executed, error: undefined, result: undefined };
}

/** 1, 2, …, n in a shuffled order, so the window cannot rely on calls arriving sorted. */
function shuffled(n: number): number[] {
  const values = Array.from({ length: n }, (_, i) => i + 1);
  for (let i = values.length - 1; i > 0; i--) {
    const j = (i * 7919) % (i + 1);
    [values[i], values[j]] = [values[j] as number, values[i] as number];
  }
  return values;
}

describe("latency percentiles", () => {
  it("computes nearest-rank p50, p95, p99, mean and max of known latencies exactly", () => {
    const window = new LatencyWindow(1000);
    for (const ms of shuffled(100)) window.record(ms);
    expect(window.summary()).toEqual({ p50: 50, p95: 95, p99: 99, mean: 50.5, max: 100, count: 100 });
  });

  it("uses the nearest rank for small samples", () => {
    expect(nearestRank([10, 20, 30], 50)).toBe(20);
    expect(nearestRank([10, 20, 30], 95)).toBe(30);
    expect(nearestRank([7], 99)).toBe(7);
  });

  it("keeps only the newest durations once full, so memory stays fixed", () => {
    const window = new LatencyWindow(10);
    for (let ms = 1; ms <= 25; ms++) window.record(ms);
    expect(window.summary()).toEqual({ p50: 20, p95: 25, p99: 25, mean: 20.5, max: 25, count: 10 });
  });

  it("reports zeros before any call", () => {
    expect(new LatencyWindow(4).summary()).toEqual({ p50: 0, p95: 0, p99: 0, mean: 0, max: 0, count: 0 });
  });
});

describe("usage stats", () => {
  it("counts calls, successes and failures by code per tool, with last call times", () => {
    let now = 1_000;
    const stats = createUsageStats({ now: () => now });
    stats.record("calc", outcome("ok", 2));
    stats.record("calc", outcome("tool_error", 4));
    now = 2_000;
    stats.record("calc", outcome("invalid_argument", 0.1, false));
    stats.record("echo", outcome("ok", 1));
    stats.record(undefined, outcome("not_found", 0.1, false));
    expect(stats.tools()).toEqual([
      {
        name: "calc",
        calls: 3,
        successes: 1,
        failures: 2,
        failuresByCode: { invalid_argument: 1, tool_error: 1 },
        // Only calls that ran count for latency.
        latency: { p50: 2, p95: 4, p99: 4, mean: 3, max: 4, count: 2 },
        lastCallTime: 2_000,
      },
      { name: "echo", calls: 1, successes: 1, failures: 0, failuresByCode: {}, latency: { p50: 1, p95: 1, p99: 1, mean: 1, max: 1, count: 1 }, lastCallTime: 2_000 },
    ]);
    expect(stats.requests).toBe(5);
    expect(stats.errors).toBe(3);
    expect(stats.tool("nope")).toBeUndefined();
  });

  it("never grows for names nobody registered", () => {
    const stats = createUsageStats();
    for (let i = 0; i < 1000; i++) stats.record(undefined, outcome("not_found", 0.1, false));
    expect(stats.tools()).toEqual([]);
    expect(stats.requests).toBe(1000);
  });
});
