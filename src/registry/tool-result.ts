import type { Content } from "./content.js";

const toolResultBrand = Symbol.for("toolwire.ToolResult");

/**
 * A full tool result, for handlers that need more than returning their output object:
 * extra content blocks (images, resources) or an error result.
 */
export interface ToolResult<O = unknown> {
  readonly [toolResultBrand]: true;
  /** Unstructured content; when absent, the structured content is also sent as JSON text. */
  readonly content?: readonly Content[];
  /** Structured result, checked against the manifest's output schema. */
  readonly structuredContent?: O;
  /** The tool failed; content says why. */
  readonly isError?: boolean;
}

/** Builds a {@link ToolResult}. */
export function toolResult<O>(init: Omit<ToolResult<O>, typeof toolResultBrand>): ToolResult<O> {
  return { ...init, [toolResultBrand]: true };
}

/** Builds an error result carrying `message`: the model or caller sees it, the call does not fail. */
export function toolError(message: string): ToolResult<never> {
  return toolResult({ content: [{ type: "text", text: message }], isError: true });
}

/** Whether a handler's return value is a {@link ToolResult} rather than plain output. */
export function isToolResult(value: unknown): value is ToolResult {
  return typeof value === "object" && value !== null && toolResultBrand in value;
}

/**
 * Throw from a handler to end the call with an error result whose message the caller sees.
 * Any other thrown error also becomes an error result, but only its message is kept.
 */
export class ToolError extends Error {
  override name = "ToolError";
}
