export type { Content, TextContent, ImageContent, AudioContent, ResourceContent } from "./content.js";
export { textContent } from "./content.js";
export type { ToolContext, ToolLogLevel } from "./tool-context.js";
export { toolResult, toolError, isToolResult, ToolError, type ToolResult } from "./tool-result.js";
export type { ToolDescriptor, ToolManifest, ToolInput, ToolOutput } from "./tool-descriptor.js";
export { defineTool, type AnyToolDefinition, type ToolDefinition, type ToolHandler } from "./define-tool.js";
export { validateManifest, ManifestError } from "./manifest-validation.js";
export { createSchemaCompiler, toViolations, formatViolations, type SchemaViolation } from "./json-schema.js";
export { createToolRegistry, type ToolRegistry, type RegisteredTool, type RegistryChange } from "./tool-registry.js";
