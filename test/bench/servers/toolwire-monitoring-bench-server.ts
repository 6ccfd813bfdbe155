import { pino } from "pino";
import { createToolwireServer } from "../../../src/server/create-server.js";
import { createMonitoring } from "../../../src/server/monitoring.js";
import { echo } from "../../../src/tools/echo.js";
import { benchHost, type BenchServer } from "../bench-server.js";

/**
 * Starts Toolwire as the plain toolwire target does, plus the monitoring extension: every call
 * publishes its events, feeds usage stats and Prometheus metrics. The logger stays silent as in
 * the plain target, so the difference between the two is the cost of events and metrics.
 */
export async function startToolwireMonitoringBenchServer(): Promise<BenchServer> {
  const server = createToolwireServer({
    host: benchHost,
    port: 0,
    tools: [echo],
    logger: pino({ level: "silent" }),
    extensions: [createMonitoring({ subscriberQueueSize: 65_536 })],
  });
  const { port } = await server.listen();
  return { port, close: () => server.close(0) };
}
