import { pino } from "pino";
import { createToolwireServer } from "../../../src/server/create-server.js";
import { echo } from "../../../src/tools/echo.js";
import { benchHost, type BenchServer } from "../bench-server.js";

/** Starts the full Toolwire server (every surface, whole call pipeline) with only the echo tool. */
export async function startToolwireBenchServer(): Promise<BenchServer> {
  const server = createToolwireServer({
    host: benchHost,
    port: 0,
    tools: [echo],
    logger: pino({ level: "silent" }),
  });
  const { port } = await server.listen();
  return { port, close: () => server.close(0) };
}
