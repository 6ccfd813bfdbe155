import { readdir, readFile, mkdir, writeFile, stat } from "node:fs/promises";
import { join, relative } from "node:path";
import type { JSONSchema } from "json-schema-to-typescript";
import { validateManifest } from "../registry/manifest-validation.js";
import { isToolwireRepository } from "./project-kind.js";
import { toolIdentifier, writeToolModules, type GeneratedTool, type ImportStyle } from "./tool-modules.js";
import { toTypeScript } from "./type-script.js";

export { toTypeScript } from "./type-script.js";

/** Options of {@link compileManifests}. */
export interface CompileManifestsOptions {
  /** Project root holding `schemas/` and `gen/`. */
  readonly root: string;
  /** Folder of tool manifests, relative to root. */
  readonly toolsDir?: string;
  /** Output folder for tool code, relative to root. */
  readonly outDir?: string;
  /**
   * Where the generated code imports Toolwire from: "package" (`toolwire`, for a project that
   * depends on it) or "sources" (the repository's own `src/`). Default: "sources" when root is the
   * toolwire repository itself, "package" anywhere else.
   */
  readonly imports?: ImportStyle;
}

/** What {@link compileManifests} wrote. */
export interface CompileManifestsResult {
  /** Files written, relative to root, sorted. */
  readonly files: readonly string[];
  /** Tool names compiled, sorted. */
  readonly tools: readonly string[];
}

/** A folder of tool manifests that is not there: says what to create instead of a bare ENOENT. */
export class MissingToolsDirError extends Error {
  override readonly name = "MissingToolsDirError";
}

/**
 * The manifest compiler: validates every manifest in `schemas/tools/` and writes, per tool,
 * Input/Output types and a typed descriptor into `gen/tools/<name>.ts`, plus `gen/tools/index.ts`
 * with the `ToolMap` and a typed client (`createClient(url)` in a project that depends on
 * toolwire). In the toolwire repository itself it also writes the `ToolManifest` type from the
 * meta-schema. Output is sorted and stable, so running it twice changes nothing. Throws a
 * ManifestError on a bad manifest (and writes nothing), a {@link MissingToolsDirError} when
 * there is no folder of manifests.
 */
export async function compileManifests(options: CompileManifestsOptions): Promise<CompileManifestsResult> {
  const root = options.root;
  const toolsDir = join(root, options.toolsDir ?? "schemas/tools");
  const outDir = join(root, options.outDir ?? "gen/tools");
  const imports = options.imports ?? ((await isToolwireRepository(root)) ? "sources" : "package");

  const tools = await readManifests(root, toolsDir);
  const files: string[] = [];
  if (imports === "sources") files.push(await writeManifestType(root));
  files.push(
    ...(await writeToolModules(tools, {
      root,
      outDir,
      imports,
      where: `in ${relative(root, toolsDir).split("\\").join("/")}/`,
      indexSource: `${relative(root, toolsDir).split("\\").join("/")}/*.json`,
    })),
  );
  return { files: files.sort(), tools: tools.map((t) => t.manifest.name) };
}

/** Reads and validates every `*.json` manifest of `toolsDir`, sorted by file name. */
async function readManifests(root: string, toolsDir: string): Promise<GeneratedTool[]> {
  const names = (await listToolsDir(root, toolsDir)).filter((f) => f.endsWith(".json")).sort();
  const tools: GeneratedTool[] = [];
  const seen = new Map<string, string>();
  for (const file of names) {
    const source = relative(root, join(toolsDir, file));
    let parsed: unknown;
    try {
      parsed = JSON.parse(await readFile(join(toolsDir, file), "utf8"));
    } catch (err) {
      throw new Error(`invalid tool manifest ${source}: not JSON: ${(err as Error).message}`);
    }
    const manifest = validateManifest(parsed, source);
    const ident = toolIdentifier(manifest.name);
    const clash = seen.get(ident);
    if (clash !== undefined) {
      throw new Error(`invalid tool manifest ${source}: /name: "${manifest.name}" maps to the same identifier as ${clash}`);
    }
    seen.set(ident, source);
    if (`${manifest.name}.json` !== file) {
      throw new Error(`invalid tool manifest ${source}: /name: "${manifest.name}" must match the file name (${manifest.name}.json)`);
    }
    tools.push({ manifest, source });
  }
  return tools;
}

async function listToolsDir(root: string, toolsDir: string): Promise<string[]> {
  const rel = relative(root, toolsDir) || ".";
  const found = await stat(toolsDir).catch(() => undefined);
  if (found === undefined || !found.isDirectory()) {
    throw new MissingToolsDirError(
      `no ${rel}/ folder in ${root}: create it and put one JSON manifest per tool in it ` +
        `(${rel}/<tool name>.json), or run \`toolwire new-tool <name>\`; pass --root if the project is elsewhere.`,
    );
  }
  return readdir(toolsDir);
}

/** Writes `gen/schema/tool-manifest.ts`, the `ToolManifest` type of the repository's meta-schema. */
async function writeManifestType(root: string): Promise<string> {
  const metaSchema = JSON.parse(await readFile(join(root, "schemas/tool-manifest.schema.json"), "utf8")) as JSONSchema;
  const schemaDir = join(root, "gen/schema");
  await mkdir(schemaDir, { recursive: true });
  const code =
    "// @generated by toolwire generate from schemas/tool-manifest.schema.json. DO NOT EDIT.\n/* eslint-disable */\n\n" +
    (await toTypeScript(metaSchema, "ToolManifest", root));
  await writeFile(join(schemaDir, "tool-manifest.ts"), code);
  return relative(root, join(schemaDir, "tool-manifest.ts"));
}
