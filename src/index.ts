// The public surface of the toolwire package: what tool authors and embedders import.
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
  type ToolManifest,
  type ToolDescriptor,
  type ToolResult,
  type Content,
} from "./registry/index.js";
export { createToolwireServer, type ToolwireServer, type ToolwireServerOptions } from "./server/index.js";
export { createSimpleClient, createProductionClient, type ToolwireClient, type ToolwireClientOptions } from "./client/index.js";
