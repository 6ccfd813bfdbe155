// The public surface of the toolwire package: what tool authors and embedders import. Narrower
// entry points: toolwire/client, toolwire/server, toolwire/mcp and toolwire/testing.
export {
  defineTool,
  toolResult,
  toolError,
  ToolError,
  textContent,
  type ToolDefinition,
  type AnyToolDefinition,
  type ToolHandler,
  type ToolContext,
  type ToolDescriptor,
  type ToolManifest,
  type ToolInput,
  type ToolOutput,
  type ToolResult,
  type Content,
} from "./registry/index.js";
export { createToolwireApp, type ToolwireApp, type ToolwireAppConfig, type ToolwireAppExtras } from "./app/index.js";
export type { ToolwireConfig } from "../gen/schema/config.js";
export { createToolwireServer, type ToolwireServer, type ToolwireServerOptions } from "./server/index.js";
export {
  createSimpleClient,
  createProductionClient,
  createToolClient,
  ToolCallError,
  type ToolwireClient,
  type ToolwireClientOptions,
  type ToolClient,
  type ToolClientOptions,
  type ToolMapShape,
} from "./client/index.js";
