import { describe, expect, it } from "vitest";
import { createServerMetrics, outcomeKind } from "../../src/metrics/index.js";
import type { CallOutcome } from "../../src/runtime/index.js";

const gauges = { inFlight: () => 2, openStreams: () => 1, eventSubscribers: () => 3, tools: () => 7 };

function outcome(code: string, executed: boolean): CallOutcome {
  return { code, durationMs: 1, executed, error: undefined, result: undefined };
}

describe("server metrics", () => {
  it("classifies outcomes: identity refusals are denied, limits hit before running are rate_limited", () => {
    expect(outcomeKind(outcome("ok", true))).toBe("success");
    expect(outcomeKind(outcome("tool_error", true))).toBe("failure");
    expect(outcomeKind(outcome("unauthenticated", false))).toBe("denied");
    expect(outcomeKind(outcome("permission_denied", false))).toBe("denied");
    expect(outcomeKind(outcome("resource_exhausted", false))).toBe("rate_limited");
    // A stream cut off for a slow reader ran: that is a failure, not a limit.
    expect(outcomeKind(outcome("resource_exhausted", true))).toBe("failure");
    expect(outcomeKind(outcome("not_found", false))).toBe("failure");
  });

  it("keeps each server's metrics in its own registry", async () => {
    const a = createServerMetrics({ gauges, version: "1.2.3", processMetrics: false });
    const b = createServerMetrics({ gauges, version: "1.2.3", processMetrics: false });
    a.record({ tool: "echo", version: "1.0.0", outcome: "success", code: "ok", durationMs: 3 });
    a.record({ tool: "echo", version: "1.0.0", outcome: "success", code: "ok", durationMs: 3 });
    a.record({ tool: "echo", version: "1.0.0", outcome: "denied", code: "permission_denied", durationMs: 0.2 });
    a.record({ tool: "echo", version: "1.0.0", outcome: "rate_limited", code: "resource_exhausted", durationMs: 0.2 });
    const textA = await a.render();
    const textB = await b.render();
    expect(textA).toContain('toolwire_tool_calls_total{tool="echo",version="1.0.0",outcome="success",code="ok"} 2');
    expect(textA).toContain('toolwire_tool_denials_total{tool="echo",code="permission_denied"} 1');
    expect(textA).toContain('toolwire_rate_limit_hits_total{tool="echo"} 1');
    expect(textA).toContain('toolwire_tool_call_duration_seconds_bucket{le="0.005",tool="echo",version="1.0.0",outcome="success"} 2');
    expect(textA).toContain("toolwire_tool_calls_in_flight 2");
    expect(textA).toContain("toolwire_event_subscribers 3");
    expect(textA).toContain('toolwire_build_info{version="1.2.3"} 1');
    expect(textB).not.toContain('toolwire_tool_calls_total{');
    expect(textA).not.toContain("process_cpu_user_seconds_total");
  });

  it("appends the process metrics once per process, whatever the number of servers", async () => {
    const a = createServerMetrics({ gauges, version: "1" });
    const b = createServerMetrics({ gauges, version: "1" });
    for (const text of [await a.render(), await b.render()]) {
      expect(text.match(/^# TYPE process_cpu_user_seconds_total counter$/gm)).toHaveLength(1);
      expect(text).toContain("nodejs_eventloop_lag_seconds");
      expect(text).toContain("toolwire_tool_calls_total");
    }
  });
});
