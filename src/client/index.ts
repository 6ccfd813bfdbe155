export { createToolClient, ToolCallError, type ToolClient, type ToolCallOptions, type ToolMapShape } from "./tool-client.js";
