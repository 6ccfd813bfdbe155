import type { Logger } from "pino";
import { createToolwireServer, type ServerExtensionFactory, type ToolwireServer, type ToolwireServerOptions } from "../server/index.js";
import { createMonitoring } from "../server/monitoring.js";
import type { ClusterBackend } from "../server/cluster-view.js";
import type { SecurityLevelName } from "../security/security-level.js";
import { createBuiltinTools, type ExecuteCommandOptions } from "../tools/index.js";
import { createPluginManager, type PluginManager } from "../registry/plugin-manager.js";
import { createToolRegistry } from "../registry/tool-registry.js";
import { createRegistryAdmin } from "../server/registry-service.js";
import { createMcpEndpoint } from "../mcp/index.js";
import { RegistryService } from "../../gen/proto/toolwire/v1/registry_service_pb.js";

/** What `toolwire serve` builds its server from. */
export type ServeSettings = Omit<ToolwireServerOptions, "tools" | "extensions" | "logger"> & {
  /** Structured logger for the server. */
  readonly logger: Logger;
  /** Who may read monitoring data (WatchEvents, GetStats, /events, /metrics); default public. */
  readonly monitoringLevel?: SecurityLevelName;
  /** Whether events carry call arguments (default false). */
  readonly eventArguments?: boolean;
  /** Plugin directories whose tools are served beside the built-in ones. */
  readonly pluginDirs?: readonly string[];
  /** Whether /mcp keeps 2025-era sessions (default false: stateless). */
  readonly mcpSessions?: boolean;
  /** The backend several instances share events, peers and statistics through (Redis). */
  readonly cluster?: ClusterBackend;
  /** Options of the built-in execute_command tool (`tools.executeCommand` in the config). */
  readonly executeCommand?: ExecuteCommandOptions;
};

/** The composed server and its plugin manager (load plugins with `plugins.reload()`). */
export type ComposedServer = ToolwireServer & {
  /** Loads and reloads the plugin directories. */
  readonly plugins: PluginManager;
};

/**
 * The server `toolwire serve` runs: the built-in tools and every surface on one port. The README
 * test builds its server here too, so the documented commands run against what users run.
 */
export function composeServer(settings: ServeSettings): ComposedServer {
  const { monitoringLevel: _level, eventArguments: _arguments, pluginDirs = [], mcpSessions = false, cluster, executeCommand, ...options } = settings;
  const registry = options.registry ?? createToolRegistry();
  const plugins = createPluginManager({ registry, dirs: pluginDirs, logger: settings.logger });
  // Every surface beyond ToolService and /health plugs in here, one line each.
  const extensions: ServerExtensionFactory[] = [
    createRegistryAdmin({ plugins }),
    createMonitoring({ access: { events: settings.monitoringLevel, stats: settings.monitoringLevel, metrics: settings.monitoringLevel }, includeArguments: settings.eventArguments, protocols: ["connect", "grpc", "grpc-web", "sse", "mcp"], services: [RegistryService], cluster }),
    createMcpEndpoint({ sessions: mcpSessions }),
  ];
  return Object.assign(createToolwireServer({ ...options, registry, tools: createBuiltinTools({ executeCommand }), extensions }), { plugins });
}
