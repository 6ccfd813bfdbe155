/** Latency of a tool's recent calls, in milliseconds. */
export interface LatencySummary {
  /** Median. */
  readonly p50Ms: number;
  /** 95th percentile. */
  readonly p95Ms: number;
  /** 99th percentile. */
  readonly p99Ms: number;
  /** Arithmetic mean. */
  readonly meanMs: number;
  /** Slowest. */
  readonly maxMs: number;
  /** How many durations the figures are computed from (the most recent calls, up to the window). */
  readonly count: number;
}

/** What one client saw of one tool since it was created (or reset). */
export interface ToolUsageStats {
  /** Tool name. */
  readonly name: string;
  /** Calls made, refused ones included. */
  readonly calls: number;
  /** Calls that answered a result that is not an error. */
  readonly successes: number;
  /** Calls that failed: an is_error result, an error code, or a refusal by the client's policy. */
  readonly errors: number;
  /** Failures by code: "tool_error", "unavailable", "permission_denied", … */
  readonly errorsByCode: Readonly<Record<string, number>>;
  /** Latency of the most recent calls. */
  readonly latency: LatencySummary;
  /** When the tool was last called. */
  readonly lastCallTime: Date;
}

/** In-memory per-tool call statistics of a client. */
export interface UsageStats {
  /** Records one ended call: "ok", "tool_error" or the snake_case error code, and its duration. */
  record(name: string, code: string, durationMs: number): void;
  /** One tool's statistics; undefined when it was never called. */
  get(name: string): ToolUsageStats | undefined;
  /** Every called tool's statistics, sorted by name. */
  all(): ToolUsageStats[];
  /** Forgets everything. */
  reset(): void;
}

/** Options of {@link createUsageStats}. */
export interface UsageStatsOptions {
  /** How many recent durations per tool the latency figures use (default 1 024). */
  readonly window?: number;
}

interface Entry {
  calls: number;
  successes: number;
  readonly errorsByCode: Map<string, number>;
  // A ring of the most recent durations: memory stays bounded however long the client runs.
  readonly durations: number[];
  next: number;
  last: number;
}

/** Creates per-tool usage statistics kept in memory. */
export function createUsageStats(options: UsageStatsOptions = {}): UsageStats {
  const window = Math.max(1, Math.floor(options.window ?? 1024));
  const tools = new Map<string, Entry>();

  function snapshot(name: string, e: Entry): ToolUsageStats {
    let errors = 0;
    for (const n of e.errorsByCode.values()) errors += n;
    return {
      name,
      calls: e.calls,
      successes: e.successes,
      errors,
      errorsByCode: Object.fromEntries([...e.errorsByCode].sort(([a], [b]) => a.localeCompare(b))),
      latency: summarize(e.durations),
      lastCallTime: new Date(e.last),
    };
  }

  return {
    record(name, code, durationMs) {
      let e = tools.get(name);
      if (e === undefined) {
        e = { calls: 0, successes: 0, errorsByCode: new Map(), durations: [], next: 0, last: 0 };
        tools.set(name, e);
      }
      e.calls++;
      if (code === "ok") e.successes++;
      else e.errorsByCode.set(code, (e.errorsByCode.get(code) ?? 0) + 1);
      if (e.durations.length < window) e.durations.push(durationMs);
      else e.durations[e.next] = durationMs;
      e.next = (e.next + 1) % window;
      e.last = Date.now();
    },
    get(name) {
      const e = tools.get(name);
      return e === undefined ? undefined : snapshot(name, e);
    },
    all() {
      return [...tools.keys()].sort().map((name) => snapshot(name, tools.get(name) as Entry));
    },
    reset() {
      tools.clear();
    },
  };
}

/** Nearest-rank percentiles, mean and max of a list of durations. */
export function summarize(durations: readonly number[]): LatencySummary {
  if (durations.length === 0) return { p50Ms: 0, p95Ms: 0, p99Ms: 0, meanMs: 0, maxMs: 0, count: 0 };
  const sorted = [...durations].sort((a, b) => a - b);
  const rank = (p: number) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))] as number;
  const sum = sorted.reduce((a, b) => a + b, 0);
  const round = (n: number) => Math.round(n * 1000) / 1000;
  return {
    p50Ms: round(rank(0.5)),
    p95Ms: round(rank(0.95)),
    p99Ms: round(rank(0.99)),
    meanMs: round(sum / sorted.length),
    maxMs: round(sorted[sorted.length - 1] as number),
    count: sorted.length,
  };
}
