import type { ToolDefinition } from "../registry/define-tool.js";
import { createToolRegistry } from "../registry/tool-registry.js";
import { createCallPipeline, type CallResult } from "../runtime/call-pipeline.js";
import type { JsonObject } from "@bufbuild/protobuf";
import type { Principal } from "../security/principal.js";
import type { SecurityLevelName } from "../security/security-level.js";

/** Options of {@link runTool}. */
export interface RunToolOptions {
  /** The caller's security level (default "admin": a test of the handler, not of access rules). */
  readonly level?: SecurityLevelName;
  /** The caller's grants for restricted tools (default every tool). */
  readonly grants?: readonly string[];
  /** Aborts the call, as a client cancelling would. */
  readonly signal?: AbortSignal;
}

/** What a call run by {@link runTool} answered. */
export interface RunToolResult<O> {
  /** The structured output, checked against the manifest's output schema; undefined for text-only answers. */
  readonly output: O | undefined;
  /** The text of the answer's text content, joined by newlines. */
  readonly text: string;
  /** Whether the tool answered an error result (ToolError or toolError()). */
  readonly isError: boolean;
  /** The whole result, as every surface receives it. */
  readonly result: CallResult;
}

/**
 * Calls a tool through the same call pipeline a server runs (manifest validation of the input
 * with defaults filled in, the timeout, output validation), in process, with no server: for a
 * tool project's tests. Rejects with the ConnectError a client would get (invalid_argument for
 * input that breaks the manifest, deadline_exceeded, internal when the handler throws).
 */
export async function runTool<I, O>(tool: ToolDefinition<I, O>, input: I, options: RunToolOptions = {}): Promise<RunToolResult<O>> {
  const registry = createToolRegistry();
  const registered = registry.register(tool);
  const principal: Principal = { id: "test", level: options.level ?? "admin", grants: options.grants ?? [registered.name], anonymous: false };
  const pipeline = createCallPipeline({ registry, authenticate: () => principal });
  const result = await pipeline.call({
    name: registered.name,
    version: registered.version,
    arguments: input as JsonObject,
    caller: { headers: new Headers(), protocol: "test" },
    signal: options.signal ?? new AbortController().signal,
  });
  const text = result.content.flatMap((c) => (c.type === "text" ? [c.text] : [])).join("\n");
  return { output: result.structuredContent as O | undefined, text, isError: result.isError, result };
}
