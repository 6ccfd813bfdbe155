import type { ToolContext } from "./tool-context.js";
import type { ToolDescriptor, ToolManifest } from "./tool-descriptor.js";
import type { ToolResult } from "./tool-result.js";

/**
 * The code behind a tool. It returns its output object (which becomes the structured result and
 * a JSON text block), a string (a text block), or a full {@link ToolResult}.
 */
export type ToolHandler<I = Record<string, unknown>, O = Record<string, unknown>> = (
  input: I,
  ctx: ToolContext,
) => O | string | ToolResult<O> | Promise<O | string | ToolResult<O>>;

/** A manifest bound to its handler, ready to register. */
export interface ToolDefinition<I = Record<string, unknown>, O = Record<string, unknown>> {
  /** The tool's descriptor. */
  readonly descriptor: ToolDescriptor<I, O>;
  /** The tool's handler. */
  readonly handler: ToolHandler<I, O>;
}

/**
 * Any tool definition, whatever its input and output types: what the registry accepts.
 * (Input is contravariant in the handler, hence `never` there.)
 */
export interface AnyToolDefinition {
  /** The tool's descriptor. */
  readonly descriptor: ToolDescriptor<unknown, unknown>;
  /** The tool's handler. */
  readonly handler: ToolHandler<never, unknown>;
}

/**
 * Binds a handler to a tool: pass the generated descriptor for typed input and output, or a
 * bare manifest (plugins that skip code generation).
 */
export function defineTool<I, O>(
  descriptor: ToolDescriptor<I, O>,
  handler: ToolHandler<I, O>,
): ToolDefinition<I, O>;
export function defineTool(
  manifest: ToolManifest,
  handler: ToolHandler,
): ToolDefinition;
export function defineTool(
  descriptorOrManifest: ToolDescriptor | ToolManifest,
  handler: ToolHandler,
): ToolDefinition {
  // A manifest cannot have a "manifest" property (the meta-schema forbids unknown ones).
  const descriptor: ToolDescriptor =
    "manifest" in descriptorOrManifest && typeof descriptorOrManifest.manifest === "object"
      ? (descriptorOrManifest as ToolDescriptor)
      : { manifest: descriptorOrManifest as ToolManifest };
  return { descriptor, handler };
}
