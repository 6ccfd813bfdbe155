import { watch, type FSWatcher } from "node:fs";
import { resolve } from "node:path";
import type { Logger } from "pino";
import type { AnyToolDefinition } from "./define-tool.js";
import { scanPlugins, type PluginCacheEntry, type PluginFailure } from "./plugin-loader.js";
import type { RegisteredTool, ToolRegistry } from "./tool-registry.js";

/** What a (re)load of the plugin directories did. */
export interface PluginReport {
  /** Tool versions registered or replaced, as "name@version". */
  readonly loaded: readonly string[];
  /** Tool versions unregistered because their plugin no longer provides them. */
  readonly removed: readonly string[];
  /** Files that failed; the tools they provided before keep serving. */
  readonly failures: readonly PluginFailure[];
}

/** Options of {@link createPluginManager}. */
export interface PluginManagerOptions {
  /** The registry plugins' tools go into. */
  readonly registry: ToolRegistry;
  /** Plugin directories. */
  readonly dirs: readonly string[];
  /** Where load failures and reloads are reported. */
  readonly logger?: Logger | undefined;
  /** How long file changes settle before a reload, in ms (default 150). */
  readonly debounceMs?: number | undefined;
}

/** Loads plugin directories into a registry, reloads them on demand or on change. */
export interface PluginManager {
  /** The directories, resolved. */
  readonly dirs: readonly string[];
  /**
   * Loads every plugin again. Changed tools are swapped in atomically (calls in flight finish
   * on the old handler), tools no longer provided are unregistered, and a file that fails keeps
   * its previous tools serving. Reloads never overlap.
   */
  reload(): Promise<PluginReport>;
  /** Reloads whenever a file in the directories changes (debounced); returns a stop function. */
  watch(onReload?: (report: PluginReport) => void): () => void;
  /** Stops watching. */
  close(): void;
}

const key = (t: { name: string; version: string }) => `${t.name}@${t.version}`;

/** Creates the plugin manager of a registry. Nothing is loaded until {@link PluginManager.reload}. */
export function createPluginManager(options: PluginManagerOptions): PluginManager {
  const { registry, logger } = options;
  const dirs = options.dirs.map((d) => resolve(d));
  // What each plugin file registered, so a reload knows what to replace or remove.
  const owned = new Map<string, Map<string, RegisteredTool>>();
  const cache = new Map<string, PluginCacheEntry>();
  let running: Promise<PluginReport> = Promise.resolve({ loaded: [], removed: [], failures: [] });
  const watchers: FSWatcher[] = [];
  let timer: NodeJS.Timeout | undefined;

  async function load(): Promise<PluginReport> {
    const scan = await scanPlugins(dirs, cache);
    // From here on nothing awaits: the registry changes in one step, between two calls.
    const loaded: string[] = [];
    const removed: string[] = [];
    const failures: PluginFailure[] = [...scan.failures];
    const failedFiles = new Set(failures.map((f) => f.file));
    const inFailedDir = (file: string) => scan.failedDirs.some((dir) => file.startsWith(`${dir}/`));

    // Files that are gone take their tools with them first, so a tool that moved to another
    // file (a rename) is free for it; failed files and unreadable directories keep theirs.
    for (const [file, tools] of owned) {
      if (scan.tools.has(file) || failedFiles.has(file) || inFailedDir(file)) continue;
      for (const [k, old] of tools) {
        if (registry.versions(old.name).includes(old)) {
          registry.unregister(old.name, old.version);
          removed.push(k);
        }
      }
      owned.delete(file);
    }

    for (const [file, tools] of scan.tools) {
      const previous = owned.get(file) ?? new Map<string, RegisteredTool>();
      const conflict = firstConflict(file, tools, previous);
      if (conflict !== undefined) {
        failures.push({ file, reason: conflict });
        failedFiles.add(file);
        continue;
      }
      const next = new Map<string, RegisteredTool>();
      for (const tool of tools) {
        const k = key(tool.descriptor.manifest);
        const current = registry.versions(tool.descriptor.manifest.name).find((t) => t.version === tool.descriptor.manifest.version);
        // An unchanged plugin keeps its registration (and any deprecation an admin set): no event.
        if (current !== undefined && previous.has(k) && current.handler === tool.handler) {
          next.set(k, current);
          continue;
        }
        const registered = previous.has(k) ? registry.replace(tool) : registry.register(tool);
        next.set(key(registered), registered);
        loaded.push(key(registered));
      }
      for (const [k, old] of previous) {
        if (!next.has(k) && registry.versions(old.name).includes(old)) {
          registry.unregister(old.name, old.version);
          removed.push(k);
        }
      }
      owned.set(file, next);
    }
    // A tool that moved away and back within one reload is listed as both; it is loaded.
    const stillLoaded = new Set(loaded);
    const gone = removed.filter((k) => !stillLoaded.has(k));
    for (const failure of failures) logger?.error({ file: failure.file, reason: failure.reason }, "plugin failed to load");
    if (loaded.length + gone.length + failures.length > 0) {
      logger?.info({ loaded: loaded.length, removed: gone.length, failures: failures.length }, "plugins loaded");
    }
    return { loaded, removed: gone, failures };
  }

  /** A tool of `file` whose name and version another source already registered. */
  function firstConflict(file: string, tools: readonly AnyToolDefinition[], previous: Map<string, RegisteredTool>): string | undefined {
    const seen = new Set<string>();
    for (const tool of tools) {
      const k = key(tool.descriptor.manifest);
      if (seen.has(k)) return `exports tool "${tool.descriptor.manifest.name}" version ${tool.descriptor.manifest.version} twice`;
      seen.add(k);
      if (previous.has(k)) continue;
      const other = registry.versions(tool.descriptor.manifest.name).find((t) => t.version === tool.descriptor.manifest.version);
      if (other !== undefined) {
        return `tool "${other.name}" version ${other.version} is already registered by ${other.source ?? "the server"}`;
      }
    }
    return undefined;
  }

  const manager: PluginManager = {
    dirs,
    reload() {
      running = running.then(load, load);
      return running;
    },
    watch(onReload) {
      const trigger = () => {
        clearTimeout(timer);
        timer = setTimeout(() => {
          manager.reload().then(
            (report) => onReload?.(report),
            (err: unknown) => logger?.error({ err }, "plugin reload failed"),
          );
        }, options.debounceMs ?? 150);
      };
      for (const dir of dirs) {
        const watcher = watch(dir, trigger);
        watcher.on("error", (err) => logger?.warn({ err: err.message, dir }, "plugin directory watch failed"));
        watchers.push(watcher);
      }
      return () => manager.close();
    },
    close() {
      clearTimeout(timer);
      for (const watcher of watchers.splice(0)) watcher.close();
    },
  };
  return manager;
}
