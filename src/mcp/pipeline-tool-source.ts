import type { ToolRegistry } from "../registry/tool-registry.js";
import type { CallPipeline } from "../runtime/call-pipeline.js";
import { listTools, visibleTools } from "../runtime/tool-listing.js";
import { mcpToolOfRegistered } from "./mcp-tool.js";
import type { McpToolSource } from "./tool-source.js";

/** Options of {@link createPipelineToolSource}. */
export interface PipelineToolSourceOptions {
  /** Tools per `tools/list` page (default 100, at most 500). */
  readonly pageSize?: number | undefined;
}

/**
 * The tools of a local registry, called through the call pipeline: listings show only what the
 * caller may call, and every call gets the pipeline's authentication, limits, validation, metrics
 * and events, exactly as over Connect.
 */
export function createPipelineToolSource(
  registry: ToolRegistry,
  pipeline: CallPipeline,
  options: PipelineToolSourceOptions = {},
): McpToolSource {
  const pageSize = Math.min(500, Math.max(1, Math.floor(options.pageSize ?? 100)));
  return {
    async listTools(identity, cursor) {
      const principal = identity.principal ?? (await pipeline.authenticate(identity.caller));
      const visible = visibleTools(registry.list(), principal);
      const page = listTools(visible, { pageSize, ...(cursor === undefined ? {} : { pageToken: cursor }) });
      return { tools: page.tools.map(mcpToolOfRegistered), nextCursor: page.nextPageToken || undefined };
    },

    callTool(call) {
      return pipeline.call({
        name: call.name,
        version: call.version,
        arguments: call.arguments,
        caller: call.identity.caller,
        signal: call.signal,
        clientTimeoutMs: call.clientTimeoutMs,
        requestId: call.requestId,
        sink: call.sink,
      });
    },

    onToolsChanged(listener) {
      return registry.onChange(listener);
    },
  };
}
