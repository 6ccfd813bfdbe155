import { defineTool, type ToolDefinition, type ToolManifest } from "../../src/registry/index.js";

function manifest(name: string, extra: Partial<ToolManifest> = {}): ToolManifest {
  return { name, version: "1.0.0", description: `CLI test tool ${name}`, category: "cli-test", input: { type: "object" }, ...extra };
}

/**
 * Tools for the CLI tests: `reflect` answers its arguments, `versioned` exists as 1.0.0 and
 * 2.0.0, `old_tool` is deprecated, `text_only` answers text without structured content.
 */
export function createCliTools(): ToolDefinition[] {
  return [
    defineTool(manifest("reflect", { tags: ["mirror"] }), (input) => ({ received: input })),
    defineTool(manifest("versioned"), () => ({ version: "1.0.0" })),
    defineTool(manifest("versioned", { version: "2.0.0" }), () => ({ version: "2.0.0" })),
    defineTool(manifest("old_tool", { deprecated: true, description: "A tool on its way out." }), () => ({ ok: true })),
    defineTool(manifest("text_only"), () => "line one\nline two"),
  ];
}
