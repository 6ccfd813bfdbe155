import { RegistryService } from "../../gen/proto/toolwire/v1/registry_service_pb.js";
import type { ServerSettings } from "../config/server-settings.js";
import type { PluginManager } from "../registry/plugin-manager.js";
import type { ClusterBackend } from "../server/cluster-view.js";
import { createLazyRoutes } from "../server/lazy-routes.js";
import { createMonitoring } from "../server/monitoring.js";
import { createRegistryAdmin } from "../server/registry-service.js";
import type { ServerExtensionFactory } from "../server/server-extension.js";

/** What the surfaces of an app are built from. */
export interface AppSurfaceOptions {
  /** The plugin directories RegistryService reloads. */
  readonly plugins: PluginManager;
  /** The resolved config. */
  readonly settings: ServerSettings;
  /** The shared backend of a cluster, when Redis is configured. */
  readonly cluster: ClusterBackend | undefined;
}

/** Every surface an app adds to the bare server (ToolService and /health), one line each. */
export function appSurfaces({ plugins, settings, cluster }: AppSurfaceOptions): ServerExtensionFactory[] {
  const { monitoring } = settings;
  const level = monitoring.level;
  return [
    createRegistryAdmin({ plugins }),
    createMonitoring({
      access: { events: level, stats: level, metrics: level },
      includeArguments: monitoring.includeArguments,
      replayBufferBytes: monitoring.eventBufferBytes,
      maxEventArgumentBytes: monitoring.eventArgumentsMaxBytes,
      protocols: ["connect", "grpc", "grpc-web", "sse", "mcp"],
      services: [RegistryService],
      cluster,
    }),
    // The MCP SDK loads with the first request to /mcp: a server only called over Connect never pays for it.
    createLazyRoutes(["/mcp"], async () => (await import("../mcp/mcp-endpoint.js")).createMcpEndpoint({ sessions: settings.mcpSessions })),
  ];
}
