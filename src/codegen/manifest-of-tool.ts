import type { Tool } from "../../gen/proto/toolwire/v1/tool_pb.js";
import { annotationsOf, securityLevelOf } from "../client/tool-metadata.js";

/**
 * The manifest a server's description of a tool (ListTools, GetTool) was made from: what
 * `toolToProto` writes, read back. Fields the proto leaves at their zero value ("", 0, false, no
 * tags) were absent from the manifest, and stay absent. The result is not validated yet.
 */
export function manifestOfTool(tool: Tool): Record<string, unknown> {
  const annotations = annotationsOf(tool);
  return {
    name: tool.name,
    version: tool.version,
    ...(tool.title === "" ? {} : { title: tool.title }),
    description: tool.description,
    ...(tool.category === "" ? {} : { category: tool.category }),
    ...(tool.tags.length === 0 ? {} : { tags: [...tool.tags] }),
    securityLevel: securityLevelOf(tool),
    ...(tool.timeoutMs === 0 ? {} : { timeoutMs: tool.timeoutMs }),
    ...(tool.rateLimit === undefined ? {} : { rateLimit: { maxCalls: tool.rateLimit.maxCalls, windowSeconds: tool.rateLimit.windowSeconds } }),
    ...(tool.maxConcurrency === 0 ? {} : { maxConcurrency: tool.maxConcurrency }),
    ...(tool.deprecated ? { deprecated: true } : {}),
    ...(tool.experimental ? { experimental: true } : {}),
    ...(tool.streaming ? { streaming: true } : {}),
    ...(annotations === undefined ? {} : { annotations }),
    input: tool.inputSchema ?? { type: "object" },
    ...(tool.outputSchema === undefined ? {} : { output: tool.outputSchema }),
  };
}
