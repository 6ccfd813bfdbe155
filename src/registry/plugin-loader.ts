import { readdir, readFile, stat } from "node:fs/promises";
import { basename, extname, join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import type { AnyToolDefinition } from "./define-tool.js";
import { validateManifest } from "./manifest-validation.js";
import { importModule } from "./typescript-loader.js";

/** A plugin file that could not be loaded, and why. */
export interface PluginFailure {
  /** The file. */
  readonly file: string;
  /** What is wrong: a syntax error, a bad manifest (with its JSON pointer), a missing handler. */
  readonly reason: string;
}

/** What one plugin file provides. */
export interface PluginUnit {
  /** The file the tools come from (the manifest for `*.tool.json` pairs). */
  readonly file: string;
  /** Files whose change should reload this unit. */
  readonly watched: readonly string[];
}

/** What loading a set of plugin directories found. */
export interface PluginScan {
  /** Tools per plugin file, in file order. */
  readonly tools: ReadonlyMap<string, readonly AnyToolDefinition[]>;
  /** Files (and unreadable directories) that failed to load. */
  readonly failures: readonly PluginFailure[];
  /** Directories that could not be read: what their files provided before should keep serving. */
  readonly failedDirs: readonly string[];
}

/** What a previous scan loaded from a unit, reused while none of its files changed. */
export interface PluginCacheEntry {
  /** Modification times of the unit's files when it was loaded. */
  readonly signature: string;
  /** The tools it provided. */
  readonly tools: readonly AnyToolDefinition[];
}

/** Longest a plugin module may take to load (its top-level code) before it counts as failed. */
const loadTimeoutMs = 10_000;

const moduleExtensions = [".js", ".mjs", ".ts", ".mts"];
// Each load imports a fresh copy of the module: a query string makes it a new module URL.
let generation = 0;

/**
 * Finds the plugin units in directories: modules exporting tools, and `*.tool.json` manifests
 * whose handler is the module of the same base name beside them. Other files are ignored.
 */
export async function findPluginUnits(dirs: readonly string[]): Promise<PluginUnit[]> {
  const units: PluginUnit[] = [];
  for (const dir of dirs.map((d) => resolve(d))) {
    const entries = (await readdir(dir)).sort();
    const manifests = new Set(entries.filter((e) => e.endsWith(".tool.json")).map((e) => e.slice(0, -".tool.json".length)));
    for (const entry of entries) {
      const file = join(dir, entry);
      if (entry.endsWith(".tool.json")) {
        const base = entry.slice(0, -".tool.json".length);
        const handlers = moduleExtensions.map((ext) => join(dir, `${base}${ext}`)).filter((f) => entries.includes(basename(f)));
        units.push({ file, watched: [file, ...handlers] });
        continue;
      }
      const ext = extname(entry);
      if (!moduleExtensions.includes(ext) || entry.endsWith(".d.ts") || entry.includes(".test.")) continue;
      // A module beside a manifest of its name is that manifest's handler, not a plugin itself.
      if (manifests.has(entry.slice(0, -ext.length))) continue;
      if (!(await stat(file)).isFile()) continue;
      units.push({ file, watched: [file] });
    }
  }
  return units;
}

/** Loads the tools of one plugin unit; throws an Error whose message says what is wrong. */
export async function loadPluginUnit(unit: PluginUnit): Promise<AnyToolDefinition[]> {
  generation++;
  if (unit.file.endsWith(".tool.json")) {
    let manifest: unknown;
    try {
      manifest = JSON.parse(await readFile(unit.file, "utf8"));
    } catch (err) {
      throw new Error(`not JSON: ${(err as Error).message}`);
    }
    const handlerFile = unit.watched[1];
    if (handlerFile === undefined) {
      throw new Error(`no handler module beside it (expected ${basename(unit.file, ".tool.json")}.js, .mjs or .ts)`);
    }
    const module = await importFresh(handlerFile);
    const handler = module.handler ?? module.default;
    if (typeof handler !== "function") {
      throw new Error(`${basename(handlerFile)} must export a function named handler (or a default export)`);
    }
    validateManifest(manifest, unit.file);
    return [{ descriptor: { manifest: manifest as never, source: unit.file }, handler: handler as AnyToolDefinition["handler"] }];
  }
  const module = await importFresh(unit.file);
  const tools = Object.values(module)
    .flatMap((value) => (Array.isArray(value) ? value : [value]))
    .map(asToolDefinition)
    .filter((t): t is AnyToolDefinition => t !== undefined);
  if (tools.length === 0) {
    throw new Error("exports no tools (export values made with defineTool(manifest, handler), or { manifest, handler } objects)");
  }
  return tools.map((tool) => {
    validateManifest(tool.descriptor.manifest, unit.file);
    return { descriptor: { ...tool.descriptor, source: unit.file }, handler: tool.handler };
  });
}

/**
 * Loads every plugin unit in the directories, collecting failures instead of stopping at one.
 * Units whose files did not change since `cache` was filled are not imported again (each fresh
 * import is a module copy the process keeps for good); the cache is updated in place.
 */
export async function scanPlugins(dirs: readonly string[], cache = new Map<string, PluginCacheEntry>()): Promise<PluginScan> {
  const tools = new Map<string, readonly AnyToolDefinition[]>();
  const failures: PluginFailure[] = [];
  const failedDirs: string[] = [];
  for (const dir of dirs.map((d) => resolve(d))) {
    let units: PluginUnit[];
    try {
      units = await findPluginUnits([dir]);
    } catch (err) {
      failures.push({ file: dir, reason: `cannot read plugin directory: ${describe(err)}` });
      failedDirs.push(dir);
      continue;
    }
    for (const unit of units) {
      try {
        const signature = await signatureOf(unit);
        const cached = cache.get(unit.file);
        const loaded = cached?.signature === signature ? cached.tools : await withTimeout(loadPluginUnit(unit), unit.file);
        cache.set(unit.file, { signature, tools: loaded });
        tools.set(unit.file, loaded);
      } catch (err) {
        cache.delete(unit.file);
        failures.push({ file: unit.file, reason: describe(err) });
      }
    }
  }
  for (const file of cache.keys()) if (!tools.has(file) && !failures.some((f) => f.file === file)) cache.delete(file);
  return { tools, failures, failedDirs };
}

async function signatureOf(unit: PluginUnit): Promise<string> {
  const times = await Promise.all(unit.watched.map(async (file) => `${file}:${(await stat(file)).mtimeMs}`));
  return times.join("|");
}

function withTimeout<T>(promise: Promise<T>, file: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${basename(file)} did not finish loading within ${loadTimeoutMs / 1000}s`)), loadTimeoutMs);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

async function importFresh(file: string): Promise<Record<string, unknown>> {
  try {
    const url = `${pathToFileURL(file).href}?toolwire-load=${generation}`;
    return (await importModule(url, /\.m?ts$/.test(file))) as Record<string, unknown>;
  } catch (err) {
    throw new Error(`cannot load ${basename(file)}: ${describe(err)}`);
  }
}

/**
 * A tool made with defineTool, or a plain `{ manifest, handler }` object (so a plain JavaScript
 * plugin outside the project needs no import at all); undefined for any other export.
 */
function asToolDefinition(value: unknown): AnyToolDefinition | undefined {
  if (typeof value !== "object" || value === null) return undefined;
  const candidate = value as { descriptor?: { manifest?: unknown }; manifest?: unknown; handler?: unknown };
  if (typeof candidate.handler !== "function") return undefined;
  const handler = candidate.handler as AnyToolDefinition["handler"];
  if (typeof candidate.descriptor?.manifest === "object") return { descriptor: candidate.descriptor as AnyToolDefinition["descriptor"], handler };
  if (typeof candidate.manifest === "object" && candidate.manifest !== null) {
    return { descriptor: { manifest: candidate.manifest as AnyToolDefinition["descriptor"]["manifest"] }, handler };
  }
  return undefined;
}

function describe(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  // One readable paragraph: no stack, bounded.
  return message.split("\n    at ", 1)[0]?.trim().slice(0, 2000) ?? "";
}
