import type { ToolDefinition } from "../../src/registry/define-tool.js";
import { isToolResult, type ToolResult } from "../../src/registry/tool-result.js";
import { createTestContext, type TestContext } from "./tool-context.js";

/** Calls a tool's handler directly and returns whatever it returned (output, text or ToolResult). */
export async function callTool<I, O>(
  tool: ToolDefinition<I, O>,
  input: I,
  ctx: TestContext = createTestContext(),
): Promise<O | string | ToolResult<O>> {
  return tool.handler(input, ctx);
}

/** Calls a tool's handler and returns its plain output object, failing when it returned anything else. */
export async function runTool<I, O>(tool: ToolDefinition<I, O>, input: I, ctx: TestContext = createTestContext()): Promise<O> {
  const result = await callTool(tool, input, ctx);
  if (typeof result === "string" || isToolResult(result)) {
    throw new Error(`expected plain output from ${tool.descriptor.manifest.name}, got ${JSON.stringify(result)}`);
  }
  return result;
}
