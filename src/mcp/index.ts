// MCP surfaces of Toolwire: the /mcp Streamable HTTP endpoint, stdio serving, and the tool
// sources behind them (the local call pipeline, or a remote server through its Connect API).
export { createMcpEndpoint, type McpEndpointOptions } from "./mcp-endpoint.js";
export { serveMcpOverStdio, type McpStdioServer, type StdioServeOptions } from "./stdio-server.js";
export { createPipelineToolSource, type PipelineToolSourceOptions } from "./pipeline-tool-source.js";
export { createRemoteToolSource, type RemoteToolSourceOptions } from "./remote-tool-source.js";
export { createToolServerFactory, toMcpResult, type ToolServerFactory, type ToolServerInstanceOptions, type ToolServerOptions } from "./tool-server.js";
export { McpErrorCode, jsonRpcErrorOf, toolCallFailure, type JsonRpcErrorObject, type McpErrorData } from "./mcp-errors.js";
export { mcpToolOf, mcpToolOfRegistered, toolwireMetaKeys, type McpToolFields } from "./mcp-tool.js";
export type { LegacySessionLimits } from "./legacy-sessions.js";
export type { HostGuardOptions } from "./host-guard.js";
export type { McpIdentity, McpToolCall, McpToolPage, McpToolSource } from "./tool-source.js";
