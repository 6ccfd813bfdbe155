import { createServer } from "node:http";
import { connectNodeAdapter } from "@connectrpc/connect-node";
import { ToolService } from "../../../gen/proto/toolwire/v1/tool_service_pb.js";
import { listenBench, type BenchServer } from "../bench-server.js";

/**
 * Starts connect-node on node:http with a CallTool that echoes its arguments as structured content:
 * the same Struct round trip as Toolwire, without the call pipeline. Other RPCs answer unimplemented.
 */
export async function startBareConnectServer(): Promise<BenchServer> {
  const handler = connectNodeAdapter({
    routes: (router) =>
      router.service(ToolService, {
        callTool: (req) => ({ structuredContent: req.arguments }),
      }),
  });
  const server = createServer(handler);
  return listenBench(server);
}
