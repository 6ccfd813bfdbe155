export { outcomeKind, type OutcomeKind } from "./call-outcome.js";
export { LatencyWindow, nearestRank, summarizeLatency, type LatencySummary } from "./latency-window.js";
export { createUsageStats, type ToolUsage, type ToolUsageRecord, type UsageStats, type UsageStatsOptions } from "./usage-stats.js";
export {
  createServerMetrics,
  defaultDurationBuckets,
  type MetricsCall,
  type MetricsGauges,
  type ServerMetrics,
  type ServerMetricsOptions,
} from "./server-metrics.js";
export { processMetricsRegistry } from "./process-metrics.js";
