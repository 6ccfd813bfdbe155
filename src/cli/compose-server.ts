import type { Logger } from "pino";
import { createToolwireServer, type ServerExtensionFactory, type ToolwireServer, type ToolwireServerOptions } from "../server/index.js";
import type { SecurityLevelName } from "../security/security-level.js";
import { builtinTools } from "../tools/index.js";

/** What `toolwire serve` builds its server from. */
export type ServeSettings = Omit<ToolwireServerOptions, "tools" | "extensions" | "logger"> & {
  /** Structured logger for the server. */
  readonly logger: Logger;
  /** Who may read monitoring data (WatchEvents, GetStats, /events, /metrics); default public. */
  readonly monitoringLevel?: SecurityLevelName;
  /** Whether events carry call arguments (default false). */
  readonly eventArguments?: boolean;
};

/**
 * The server `toolwire serve` runs: the built-in tools and every surface on one port. The README
 * test builds its server here too, so the documented commands run against what users run.
 */
export function composeServer(settings: ServeSettings): ToolwireServer {
  // Every surface beyond ToolService and /health plugs in here, one line each.
  const extensions: ServerExtensionFactory[] = [];
  const { monitoringLevel: _level, eventArguments: _arguments, ...options } = settings;
  return createToolwireServer({ ...options, tools: builtinTools, extensions });
}
