import type { SecurityLevelName } from "../security/security-level.js";
import type { ProjectLayout } from "./project-layout.js";

/** What `toolwire new-tool` is asked to make. */
export interface ToolScaffoldSpec {
  /** Tool name, as in the manifest (`word_count`). */
  readonly name: string;
  /** What the tool does, for people and models. */
  readonly description: string;
  /** Grouping, e.g. "text". */
  readonly category: string;
  /** Who may call it. */
  readonly level: SecurityLevelName;
}

/** The names one tool goes by in the project's files. */
export interface ToolScaffoldNames {
  /** Tool name (`word_count`): the manifest file and gen/tools module are named after it. */
  readonly name: string;
  /** File name of the handler and its test (`word-count`). */
  readonly fileName: string;
  /** The handler's export (`wordCount`); the generated descriptor is `${ident}Tool`. */
  readonly ident: string;
}

/** The tool-name rule of the manifest meta-schema (MCP's). */
export const toolNamePattern = /^[A-Za-z0-9_.-]{1,128}$/;

// Words that cannot name a `const`, so cannot be the handler's export.
const reserved = new Set(
  (
    "await break case catch class const continue debugger default delete do else enum export extends false finally for " +
    "function if implements import in instanceof interface let new null package private protected public return static " +
    "super switch this throw true try typeof var void while with yield arguments eval undefined"
  ).split(" "),
);

function words(name: string): string[] {
  return name.split(/[^A-Za-z0-9]+/).filter((w) => w.length > 0);
}

/**
 * The identifier the manifest compiler gives a tool (`word_count` → `wordCount`, so its
 * descriptor is `wordCountTool`): the same rule as `toolwire generate`, which the scaffold checks
 * against the generated file after running it.
 */
export function toolIdent(name: string): string {
  const [first = "tool", ...rest] = words(name);
  const ident = first.charAt(0).toLowerCase() + first.slice(1) + rest.map((w) => w.charAt(0).toUpperCase() + w.slice(1)).join("");
  return /^[0-9]/.test(ident) ? `t${ident}` : ident;
}

/**
 * The names of a new tool, or the reason the name cannot be used: it must follow the manifest's
 * name rule, contain a letter or digit, and give an identifier that can name a `const`.
 */
export function scaffoldNames(name: string): ToolScaffoldNames | { readonly problem: string } {
  if (!toolNamePattern.test(name)) {
    return { problem: `"${name}" is not a valid tool name: use 1 to 128 of the characters A-Z a-z 0-9 _ . - (like word_count)` };
  }
  if (words(name).length === 0) return { problem: `"${name}" is not a usable tool name: it needs at least one letter or digit` };
  const ident = toolIdent(name);
  if (reserved.has(ident)) return { problem: `"${name}" would make the handler a const named "${ident}", a reserved word; pick another name (like ${name}_text)` };
  const fileName = words(name.replace(/([a-z0-9])([A-Z])/g, "$1-$2"))
    .map((w) => w.toLowerCase())
    .join("-");
  return { name, fileName, ident };
}

/** The `$schema` of a manifest in `schemas/tools/`: the meta-schema shipped in the package. */
export function metaSchemaRef(layout: ProjectLayout): string {
  return layout.kind === "repository" ? "../tool-manifest.schema.json" : "../../node_modules/toolwire/schemas/tool-manifest.schema.json";
}

/** The manifest of a new tool: one `text` string in, the text and its length out. */
export function manifestTemplate(spec: ToolScaffoldSpec, layout: ProjectLayout): Record<string, unknown> {
  return {
    $schema: metaSchemaRef(layout),
    name: spec.name,
    version: "1.0.0",
    description: spec.description,
    category: spec.category,
    tags: [],
    securityLevel: spec.level,
    timeoutMs: 10_000,
    annotations: { readOnlyHint: true, idempotentHint: true, openWorldHint: false },
    input: {
      type: "object",
      additionalProperties: false,
      required: ["text"],
      properties: { text: { type: "string", maxLength: 100_000, description: "The text to work on." } },
    },
    output: {
      type: "object",
      additionalProperties: false,
      required: ["text", "length"],
      properties: {
        text: { type: "string", description: "The text, as given." },
        length: { type: "integer", minimum: 0, description: "Its length in characters." },
      },
    },
  };
}

/** A comment-safe single line: a description can hold anything, a JSDoc comment cannot. */
function docLine(text: string): string {
  return text.replace(/\s+/g, " ").replace(/\*\//g, "*\\/").trim();
}

/** The handler module (`tools/<file>.ts`, or `src/tools/<file>.ts` here), typed by the generated descriptor. */
export function handlerTemplate(names: ToolScaffoldNames, spec: ToolScaffoldSpec, layout: ProjectLayout): string {
  const imports =
    layout.kind === "repository"
      ? `import { ${names.ident}Tool } from "../../gen/tools/${names.name}.js";\nimport { defineTool } from "../registry/define-tool.js";`
      : `import { defineTool } from "toolwire";\nimport { ${names.ident}Tool } from "../gen/tools/${names.name}.js";`;
  return `${imports}

/** The \`${names.name}\` tool: ${docLine(spec.description)} */
export const ${names.ident} = defineTool(${names.ident}Tool, (input) => {
  // Input and output are typed by schemas/tools/${names.name}.json (run \`toolwire generate\` after
  // changing it). A second parameter, ctx, gives signal (aborts on timeout, cancel, shutdown),
  // progress(), partial() and log(); throw ToolError for a failure the caller should see.
  return { text: input.text, length: [...input.text].length };
});
`;
}

/** The test of a new tool's handler: vitest here, node:test through the real call pipeline in a tools project. */
export function testTemplate(names: ToolScaffoldNames, layout: ProjectLayout): string {
  if (layout.kind === "project") return projectTestTemplate(names);
  return `import { describe, expect, it } from "vitest";
import { ${names.ident} } from "../../src/tools/${names.fileName}.js";
import { runTool } from "../helpers/run-tool.js";
import { inputValidator, outputValidator } from "../helpers/tool-schemas.js";

const validateInput = inputValidator(${names.ident});
const validateOutput = outputValidator(${names.ident});

describe(${JSON.stringify(names.name)}, () => {
  it("answers the text with its length in characters", async () => {
    const output = await runTool(${names.ident}, { text: "héllo wörld" });
    expect(output).toEqual({ text: "héllo wörld", length: 11 });
    expect(validateOutput(output).message).toBe("");
  });

  it("refuses arguments without a text", () => {
    const result = validateInput({});
    expect(result.valid).toBe(false);
    expect(result.message).toContain("text");
  });
});
`;
}

/** The test `tools/<file>.test.ts` of a tools project: node:test, the call pipeline through toolwire/testing. */
function projectTestTemplate(names: ToolScaffoldNames): string {
  return `import assert from "node:assert/strict";
import { test } from "node:test";
import { runTool } from "toolwire/testing";
import { ${names.ident} } from "./${names.fileName}.js";

test("${names.name} answers the text with its length in characters", async () => {
  const { output } = await runTool(${names.ident}, { text: "héllo wörld" });
  assert.deepEqual(output, { text: "héllo wörld", length: 11 });
});

test("${names.name} refuses arguments without a text, naming the field", async () => {
  // @ts-expect-error: the generated input type requires text, as the manifest does.
  await assert.rejects(runTool(${names.ident}, {}), /\\/text: is required/);
});
`;
}

const toolImport = /^import \{ (\w+) \} from "\.\/([\w.-]+)\.js";$/gm;
const exportList = /^export \{ ([\w$, ]+) \};$/m;
const toolArray = /\[([\w$,\s]*)\](?=\.sort\()/;

/**
 * `src/tools/index.ts` with the new handler imported, exported and added to `builtinTools`, or
 * undefined when the file does not have the shape this edit expects (then the caller says what to
 * add by hand). Names stay sorted, as the file keeps them.
 */
export function registerInToolIndex(source: string, names: ToolScaffoldNames): string | undefined {
  const imports = [...source.matchAll(toolImport)];
  const exports = exportList.exec(source);
  const array = toolArray.exec(source);
  if (imports.length === 0 || exports === null || array === null) return undefined;

  const line = `import { ${names.ident} } from "./${names.fileName}.js";`;
  const after = imports.filter((m) => (m[2] ?? "") < names.fileName).at(-1);
  const before = imports[0] as RegExpMatchArray;
  let out =
    after === undefined
      ? source.slice(0, before.index) + `${line}\n` + source.slice(before.index)
      : source.slice(0, (after.index ?? 0) + after[0].length) + `\n${line}` + source.slice((after.index ?? 0) + after[0].length);

  const addName = (list: string) => sorted([...list.split(",").map((n) => n.trim()).filter((n) => n !== ""), names.ident]);
  out = out.replace(exportList, (_all, list: string) => `export { ${addName(list).join(", ")} };`);
  out = out.replace(toolArray, (_all, list: string) => `[${addName(list).join(", ")}]`);
  return out;
}

/** What to add to src/tools/index.ts by hand when its shape was not recognised. */
export function toolIndexInstructions(names: ToolScaffoldNames): string {
  return [
    `import { ${names.ident} } from "./${names.fileName}.js";`,
    `// and add ${names.ident} to the builtinTools array (and the export list)`,
  ].join("\n");
}

function sorted(list: string[]): string[] {
  return [...new Set(list)].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

/** Whether an identifier already appears in a source text, as a whole word. */
export function mentions(source: string, ident: string): boolean {
  return new RegExp(`\\b${ident.replace(/[$]/g, "\\$")}\\b`).test(source);
}
