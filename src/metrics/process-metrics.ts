import { collectDefaultMetrics, Registry } from "prom-client";

let shared: Registry | undefined;

/**
 * The registry of prom-client's default process metrics (CPU, memory, event loop lag, GC,
 * handles). They describe the process, not a server, so one registry per process collects them
 * (one GC observer and one event-loop monitor however many servers run in it), and every
 * server's /metrics appends it to its own registry's output.
 */
export function processMetricsRegistry(): Registry {
  if (shared === undefined) {
    shared = new Registry();
    collectDefaultMetrics({ register: shared });
  }
  return shared;
}
