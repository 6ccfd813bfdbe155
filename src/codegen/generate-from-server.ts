import { join } from "node:path";
import type { ToolwireClient } from "../client/toolwire-client.js";
import { validateManifest } from "../registry/manifest-validation.js";
import { manifestOfTool } from "./manifest-of-tool.js";
import { toolIdentifier, writeToolModules, type GeneratedTool } from "./tool-modules.js";

/** Options of {@link generateFromServer}. */
export interface GenerateFromServerOptions {
  /**
   * A client of the server, with the caller's credentials: the generated client covers exactly
   * the tools the server lists to them.
   */
  readonly client: Pick<ToolwireClient, "url" | "listTools">;
  /** Project root the output folder is relative to. */
  readonly root: string;
  /** Output folder, relative to root (default `gen/remote`); replaced as a whole. */
  readonly outDir?: string;
}

/** What {@link generateFromServer} wrote. */
export interface GenerateFromServerResult {
  /** Files written, relative to root, sorted. */
  readonly files: readonly string[];
  /** Tool names, sorted. */
  readonly tools: readonly string[];
  /** The tools the server marks deprecated (typed, and marked `@deprecated`). */
  readonly deprecated: readonly string[];
}

/**
 * Writes a typed client for the tools a Toolwire server lists to the caller, deprecated ones
 * included: per tool Input/Output types and a descriptor of the server's default version, and an
 * index with the ToolMap and `createClient(url, options)`, whose typed calls ask for the version
 * range compatible with the one generated from. Every manifest is checked against the meta-schema
 * first (a ManifestError names the tool), so nothing is written for a server that sends a bad one.
 */
export async function generateFromServer(options: GenerateFromServerOptions): Promise<GenerateFromServerResult> {
  const server = displayUrl(options.client.url);
  const listed = await options.client.listTools({ includeDeprecated: true });
  const tools: GeneratedTool[] = [];
  const seen = new Map<string, string>();
  for (const tool of [...listed].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
    const source = `${server} (${tool.name} ${tool.version})`;
    const manifest = validateManifest(manifestOfTool(tool), source);
    const clash = seen.get(toolIdentifier(manifest.name));
    if (clash !== undefined) {
      throw new Error(`${server} lists tools "${clash}" and "${manifest.name}", whose names map to the same identifier`);
    }
    seen.set(toolIdentifier(manifest.name), manifest.name);
    tools.push({ manifest, source, otherVersions: tool.versions.filter((v) => v !== tool.version) });
  }
  const outDir = join(options.root, options.outDir ?? "gen/remote");
  const files = await writeToolModules(tools, {
    root: options.root,
    outDir,
    imports: "package",
    where: `listed by ${server}`,
    indexSource: `the tools ${server} lists`,
    pinVersions: true,
    externalRefs: false,
  });
  return {
    files: files.sort(),
    tools: tools.map((t) => t.manifest.name),
    deprecated: tools.filter((t) => t.manifest.deprecated === true).map((t) => t.manifest.name),
  };
}

/** The server's URL without credentials, query or fragment, as written into generated files. */
function displayUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}${u.pathname}`.replace(/\/$/, "");
  } catch {
    return url;
  }
}

