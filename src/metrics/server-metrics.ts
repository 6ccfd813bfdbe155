import { Counter, Gauge, Histogram, Registry } from "prom-client";
import type { OutcomeKind } from "./call-outcome.js";
import { processMetricsRegistry } from "./process-metrics.js";

/** Live figures the metrics read when scraped (costing nothing per call). */
export interface MetricsGauges {
  /** Calls running now. */
  readonly inFlight: () => number;
  /** CallToolStream responses open now. */
  readonly openStreams: () => number;
  /** Event subscribers now. */
  readonly eventSubscribers: () => number;
  /** Tools registered (by name). */
  readonly tools: () => number;
}

/** Options of {@link createServerMetrics}. */
export interface ServerMetricsOptions {
  /** Live figures read at scrape time. */
  readonly gauges: MetricsGauges;
  /** Toolwire version, for toolwire_build_info. */
  readonly version: string;
  /** Append the process's default metrics (CPU, memory, event loop, GC) to the output (default true). */
  readonly processMetrics?: boolean | undefined;
  /** Upper bounds of the duration histogram buckets, in seconds. */
  readonly durationBuckets?: readonly number[] | undefined;
}

/** One ended call as metrics see it; every label is low-cardinality. */
export interface MetricsCall {
  /** A registered tool's name, or "_unknown" for a name nobody registered. */
  readonly tool: string;
  /** The version that was resolved, "" when resolution did not happen. */
  readonly version: string;
  /** Coarse outcome. */
  readonly outcome: OutcomeKind;
  /** "ok", "tool_error" or the snake_case Connect code. */
  readonly code: string;
  /** Time in the pipeline, in ms. */
  readonly durationMs: number;
}

/** A server's Prometheus metrics, in a registry of its own so servers in one process never clash. */
export interface ServerMetrics {
  /** The server's own prom-client registry. */
  readonly registry: Registry;
  /** Counts an ended call. */
  record(call: MetricsCall): void;
  /** Counts an event subscriber cut off for falling behind. */
  subscriberDropped(): void;
  /** The Prometheus text exposition of the server's and (unless turned off) the process's metrics. */
  render(): Promise<string>;
  /** Content-Type of {@link render}'s output. */
  readonly contentType: string;
  /** Forgets every metric. */
  clear(): void;
}

/** Bucket bounds from half a millisecond (an in-process tool) to a minute (a slow command). */
export const defaultDurationBuckets: readonly number[] = [
  0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60,
];

interface CallSeries {
  readonly calls: { inc(): void };
  readonly duration: { observe(value: number): void };
}

/** Creates the metrics of one server. */
export function createServerMetrics(options: ServerMetricsOptions): ServerMetrics {
  const registry = new Registry();
  const registers = [registry];
  const { gauges } = options;

  const calls = new Counter({
    name: "toolwire_tool_calls_total",
    help: "Tool calls by tool, version, outcome (success, failure, denied, rate_limited) and code.",
    labelNames: ["tool", "version", "outcome", "code"] as const,
    registers,
  });
  const duration = new Histogram({
    name: "toolwire_tool_call_duration_seconds",
    help: "Time from a call entering the pipeline to its answer, by tool, version and outcome.",
    labelNames: ["tool", "version", "outcome"] as const,
    buckets: [...(options.durationBuckets ?? defaultDurationBuckets)],
    registers,
  });
  const denials = new Counter({
    name: "toolwire_tool_denials_total",
    help: "Calls refused for the caller's identity, by tool and code (unauthenticated, permission_denied).",
    labelNames: ["tool", "code"] as const,
    registers,
  });
  const rateLimited = new Counter({
    name: "toolwire_rate_limit_hits_total",
    help: "Calls refused by a rate or concurrency limit, by tool.",
    labelNames: ["tool"] as const,
    registers,
  });
  const dropped = new Counter({
    name: "toolwire_event_subscribers_dropped_total",
    help: "Event subscribers cut off for falling behind their bounded queue.",
    registers,
  });
  new Gauge({
    name: "toolwire_tool_calls_in_flight",
    help: "Tool calls running now.",
    registers,
    collect() {
      this.set(gauges.inFlight());
    },
  });
  new Gauge({
    name: "toolwire_open_streams",
    help: "CallToolStream responses open now.",
    registers,
    collect() {
      this.set(gauges.openStreams());
    },
  });
  new Gauge({
    name: "toolwire_event_subscribers",
    help: "Event subscribers (WatchEvents and /events streams) now.",
    registers,
    collect() {
      this.set(gauges.eventSubscribers());
    },
  });
  new Gauge({
    name: "toolwire_registered_tools",
    help: "Tools registered, by name.",
    registers,
    collect() {
      this.set(gauges.tools());
    },
  });
  new Gauge({ name: "toolwire_build_info", help: "Toolwire version; always 1.", labelNames: ["version"] as const, registers }).set(
    { version: options.version },
    1,
  );

  // prom-client hashes the label set on every update; caching the bound series per label
  // combination keeps the per-call cost to the updates themselves.
  const series = new Map<string, CallSeries>();
  const processRegistry = options.processMetrics === false ? undefined : processMetricsRegistry();

  return {
    registry,
    record(call) {
      const key = `${call.tool}\u0000${call.version}\u0000${call.outcome}\u0000${call.code}`;
      let bound = series.get(key);
      if (bound === undefined) {
        bound = {
          calls: calls.labels(call.tool, call.version, call.outcome, call.code),
          duration: duration.labels(call.tool, call.version, call.outcome),
        };
        series.set(key, bound);
      }
      bound.calls.inc();
      bound.duration.observe(call.durationMs / 1000);
      if (call.outcome === "denied") denials.inc({ tool: call.tool, code: call.code });
      else if (call.outcome === "rate_limited") rateLimited.inc({ tool: call.tool });
    },
    subscriberDropped() {
      dropped.inc();
    },
    async render() {
      const own = await registry.metrics();
      return processRegistry === undefined ? own : own + (await processRegistry.metrics());
    },
    contentType: registry.contentType,
    clear() {
      series.clear();
      registry.clear();
    },
  };
}
