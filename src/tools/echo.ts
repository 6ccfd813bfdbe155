import { echoTool } from "../../gen/tools/echo.js";
import { defineTool } from "../registry/define-tool.js";

/** The `echo` tool: sends its message back, optionally upper-cased. */
export const echo = defineTool(echoTool, (input) => ({
  message: input.uppercase === true ? input.message.toUpperCase() : input.message,
}));
