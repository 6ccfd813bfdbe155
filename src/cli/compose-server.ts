import type { Logger } from "pino";
import { createToolwireServer, type ServerExtensionFactory, type ToolwireServer, type ToolwireServerOptions } from "../server/index.js";
import { builtinTools } from "../tools/index.js";

/** What `toolwire serve` builds its server from. */
export type ServeSettings = Omit<ToolwireServerOptions, "tools" | "extensions" | "logger"> & {
  /** Structured logger for the server. */
  readonly logger: Logger;
};

/**
 * The server `toolwire serve` runs: the built-in tools and every surface on one port. The README
 * test builds its server here too, so the documented commands run against what users run.
 */
export function composeServer(settings: ServeSettings): ToolwireServer {
  // Every surface beyond ToolService and /health plugs in here, one line each.
  const extensions: ServerExtensionFactory[] = [];
  return createToolwireServer({ ...settings, tools: builtinTools, extensions });
}
