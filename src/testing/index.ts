// Helpers for a tool project's tests: run a tool through the real call pipeline, in process.
export { runTool, type RunToolOptions, type RunToolResult } from "./run-tool.js";
