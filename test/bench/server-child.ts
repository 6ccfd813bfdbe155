// Server child entry: starts the server named by argv[2], reports its port, answers CPU-usage
// queries over IPC, and stops on request (or when the orchestrator goes away).
import type { BenchServer } from "./bench-server.js";
import type { ServerKind } from "./bench-targets.js";
import type { FromServerChild, ToServerChild } from "./ipc-messages.js";

const starters: Record<ServerKind, () => Promise<BenchServer>> = {
  "bare-http": async () => (await import("./servers/bare-http-server.js")).startBareHttpServer(),
  "bare-connect": async () => (await import("./servers/bare-connect-server.js")).startBareConnectServer(),
  toolwire: async () => (await import("./servers/toolwire-bench-server.js")).startToolwireBenchServer(),
  "toolwire-secured": async () => (await import("./servers/toolwire-secured-bench-server.js")).startToolwireSecuredBenchServer(),
  "toolwire-monitoring": async () => (await import("./servers/toolwire-monitoring-bench-server.js")).startToolwireMonitoringBenchServer(),
  "toolwire-monitoring-10": async () => (await import("./servers/toolwire-monitoring-bench-server.js")).startToolwireMonitoringBenchServer(),
  "mcp-sdk": async () => (await import("./servers/mcp-sdk-server.js")).startMcpSdkServer(),
  "toolwire-mcp": async () => (await import("./servers/toolwire-mcp-bench-server.js")).startToolwireMcpBenchServer(),
};

const send = (message: FromServerChild): void => {
  process.send?.(message);
};

const kind = process.argv[2] as ServerKind;
const start = starters[kind];
if (start === undefined) {
  console.error(`server-child: unknown server kind "${kind}"`);
  process.exit(2);
}

const server = await start();
let stopping = false;

async function stop(): Promise<never> {
  if (!stopping) {
    stopping = true;
    // Never hang on close: a stuck connection must not keep the child alive.
    setTimeout(() => process.exit(0), 3_000).unref();
    await server.close().catch(() => {});
  }
  process.exit(0);
}

process.on("disconnect", () => void stop());
process.on("message", (message: ToServerChild) => {
  if (message.type === "cpu") {
    const usage = process.cpuUsage();
    send({ type: "cpu", id: message.id, userMicros: usage.user, systemMicros: usage.system });
  } else {
    void stop();
  }
});
send({ type: "ready", port: server.port });
