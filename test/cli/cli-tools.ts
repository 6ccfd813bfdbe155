import { defineTool, type ToolDefinition } from "../../src/registry/index.js";
import { manifestsFor } from "../helpers/registry-fixtures.js";

const manifest = manifestsFor("CLI test tool", { category: "cli-test", input: { type: "object" } });

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
