import type { Tool, ToolAnnotations } from "@modelcontextprotocol/server";
import type { RegisteredTool } from "../registry/tool-registry.js";

/** The `_meta` keys Toolwire adds to tools and results, so MCP clients can see versions and ids. */
export const toolwireMetaKeys = {
  /** Tool version (on tools and results); on a `tools/call` request, the version or semver range to call. */
  version: "toolwire/version",
  /** Category of a tool. */
  category: "toolwire/category",
  /** Tags of a tool. */
  tags: "toolwire/tags",
  /** Security level a tool needs. */
  securityLevel: "toolwire/securityLevel",
  /** The tool is deprecated. */
  deprecated: "toolwire/deprecated",
  /** Request id of a call, as in the server's logs and events. */
  requestId: "toolwire/requestId",
  /** Warnings about a call, e.g. that the version called is deprecated. */
  warnings: "toolwire/warnings",
  /** On a `tools/call` request: milliseconds the client is willing to wait. */
  timeoutMs: "toolwire/timeoutMs",
} as const;

/** The manifest fields an MCP tool description is made of (a registered tool or a remote one). */
export interface McpToolFields {
  /** Tool name. */
  readonly name: string;
  /** Tool version. */
  readonly version: string;
  /** Display name. */
  readonly title?: string | undefined;
  /** What the tool does. */
  readonly description: string;
  /** Grouping. */
  readonly category?: string | undefined;
  /** Search tags. */
  readonly tags?: readonly string[] | undefined;
  /** Level a caller needs. */
  readonly securityLevel: string;
  /** Whether the version is deprecated. */
  readonly deprecated?: boolean | undefined;
  /** MCP behaviour hints. */
  readonly annotations?: ToolAnnotations | undefined;
  /** JSON Schema of the arguments. */
  readonly input: Record<string, unknown>;
  /** JSON Schema of the structured result. */
  readonly output?: Record<string, unknown> | undefined;
}

/** An MCP `Tool` (as `tools/list` answers it) from a tool's manifest fields. */
export function mcpToolOf(fields: McpToolFields): Tool {
  const annotations: ToolAnnotations = { ...fields.annotations };
  if (fields.title !== undefined && fields.title !== "") annotations.title = fields.title;
  const meta: Record<string, unknown> = {
    [toolwireMetaKeys.version]: fields.version,
    [toolwireMetaKeys.securityLevel]: fields.securityLevel,
  };
  if (fields.category) meta[toolwireMetaKeys.category] = fields.category;
  if (fields.tags !== undefined && fields.tags.length > 0) meta[toolwireMetaKeys.tags] = [...fields.tags];
  if (fields.deprecated === true) meta[toolwireMetaKeys.deprecated] = true;
  return {
    name: fields.name,
    ...(fields.title ? { title: fields.title } : {}),
    description: fields.description,
    inputSchema: withoutId(fields.input) as Tool["inputSchema"],
    ...(fields.output === undefined ? {} : { outputSchema: withoutId(fields.output) as NonNullable<Tool["outputSchema"]> }),
    ...(Object.keys(annotations).length > 0 ? { annotations } : {}),
    _meta: meta,
  };
}

const described = new WeakMap<RegisteredTool, Tool>();

/** The MCP description of a registered tool version, built once per version. */
export function mcpToolOfRegistered(tool: RegisteredTool): Tool {
  let mcp = described.get(tool);
  if (mcp === undefined) {
    const m = tool.manifest;
    mcp = mcpToolOf({
      name: m.name,
      version: m.version,
      title: m.title,
      description: m.description,
      category: m.category,
      tags: m.tags,
      securityLevel: tool.securityLevel,
      deprecated: m.deprecated,
      annotations: m.annotations,
      input: m.input,
      output: m.output,
    });
    described.set(tool, mcp);
  }
  return mcp;
}

/**
 * A schema without its top-level `$id`: clients compile every tool's schemas into one validator,
 * where two versions (or two servers) declaring the same `$id` would clash.
 */
function withoutId(schema: Record<string, unknown>): Record<string, unknown> {
  if (!("$id" in schema)) return schema;
  const { $id: _dropped, ...rest } = schema;
  return rest;
}
