import type { CallOutcome } from "../runtime/call-pipeline.js";
import { LatencyWindow, type LatencySummary } from "./latency-window.js";

/** One tool's usage since the server started. */
export interface ToolUsage {
  /** Tool name. */
  readonly name: string;
  /** Calls that reached the tool, refused ones included. */
  readonly calls: number;
  /** Calls that answered a non-error result. */
  readonly successes: number;
  /** Calls that failed or were refused. */
  readonly failures: number;
  /** Failures by code ("tool_error", "invalid_argument", ...). */
  readonly failuresByCode: Readonly<Record<string, number>>;
  /** Latency of the newest calls that ran (the handler started). */
  readonly latency: LatencySummary;
  /** When the tool was last called, epoch ms. */
  readonly lastCallTime: number | undefined;
}

/** One tool's usage on one instance, with the raw durations so that percentiles can be merged exactly. */
export interface ToolUsageRecord {
  /** Tool name. */
  readonly name: string;
  /** Calls that answered a non-error result. */
  readonly successes: number;
  /** Calls that failed or were refused. */
  readonly failures: number;
  /** Failures by code. */
  readonly failuresByCode: Readonly<Record<string, number>>;
  /** The newest durations (the instance's latency window), in ms. */
  readonly durations: readonly number[];
  /** When the tool was last called, epoch ms. */
  readonly lastCallTime: number | undefined;
}

/** Options of {@link createUsageStats}. */
export interface UsageStatsOptions {
  /** Durations kept per tool for percentiles (default 1024). */
  readonly windowSize?: number | undefined;
  /** Clock for last-call times, epoch ms (default Date.now). */
  readonly now?: (() => number) | undefined;
}

/** Per-tool and server-wide call counts with latency percentiles, in memory. */
export interface UsageStats {
  /**
   * Counts one ended call. `tool` is the tool's name when it is a registered tool, undefined
   * for names nobody registered (counted in the totals only, so callers cannot grow the map).
   */
  record(tool: string | undefined, outcome: CallOutcome): void;
  /** One tool's usage, undefined when it was never called. */
  tool(name: string): ToolUsage | undefined;
  /** Every called tool's usage, sorted by name. */
  tools(): ToolUsage[];
  /** Every called tool's counts and raw latency window, for merging with other instances. */
  records(): ToolUsageRecord[];
  /** Tool calls received. */
  readonly requests: number;
  /** Tool calls that failed or were refused. */
  readonly errors: number;
}

/** Creates empty usage statistics. */
export function createUsageStats(options: UsageStatsOptions = {}): UsageStats {
  const windowSize = options.windowSize ?? 1024;
  const now = options.now ?? Date.now;
  const byTool = new Map<string, ToolRecord>();
  let requests = 0;
  let errors = 0;

  function snapshot(record: ToolRecord): ToolUsage {
    return {
      name: record.name,
      calls: record.successes + record.failures,
      successes: record.successes,
      failures: record.failures,
      failuresByCode: Object.fromEntries([...record.failuresByCode].sort(([a], [b]) => (a < b ? -1 : 1))),
      latency: record.latency.summary(),
      lastCallTime: record.lastCallTime,
    };
  }

  return {
    record(tool, outcome) {
      requests++;
      const ok = outcome.code === "ok";
      if (!ok) errors++;
      if (tool === undefined) return;
      let record = byTool.get(tool);
      if (record === undefined) {
        record = { name: tool, successes: 0, failures: 0, failuresByCode: new Map(), latency: new LatencyWindow(windowSize), lastCallTime: undefined };
        byTool.set(tool, record);
      }
      if (ok) record.successes++;
      else {
        record.failures++;
        record.failuresByCode.set(outcome.code, (record.failuresByCode.get(outcome.code) ?? 0) + 1);
      }
      if (outcome.executed) record.latency.record(outcome.durationMs);
      record.lastCallTime = now();
    },
    tool(name) {
      const record = byTool.get(name);
      return record === undefined ? undefined : snapshot(record);
    },
    tools() {
      return [...byTool.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)).map(snapshot);
    },
    records() {
      return [...byTool.values()].map((record) => ({
        name: record.name,
        successes: record.successes,
        failures: record.failures,
        failuresByCode: Object.fromEntries(record.failuresByCode),
        durations: record.latency.values(),
        lastCallTime: record.lastCallTime,
      }));
    },
    get requests() {
      return requests;
    },
    get errors() {
      return errors;
    },
  };
}

interface ToolRecord {
  readonly name: string;
  successes: number;
  failures: number;
  readonly failuresByCode: Map<string, number>;
  readonly latency: LatencyWindow;
  lastCallTime: number | undefined;
}
