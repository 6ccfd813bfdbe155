import { pino } from "pino";
import { createMcpEndpoint } from "../../../src/mcp/index.js";
import { createToolwireServer } from "../../../src/server/create-server.js";
import { echo } from "../../../src/tools/echo.js";
import { benchHost, type BenchServer } from "../bench-server.js";

/** Starts the full Toolwire server with only the echo tool and its /mcp endpoint, for MCP tools/call load. */
export async function startToolwireMcpBenchServer(): Promise<BenchServer> {
  const server = createToolwireServer({
    host: benchHost,
    port: 0,
    tools: [echo],
    logger: pino({ level: "silent" }),
    extensions: [createMcpEndpoint()],
  });
  const { port } = await server.listen();
  return { port, close: () => server.close(0) };
}
