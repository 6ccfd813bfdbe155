import type { ValidateFunction } from "ajv";
import semver from "semver";
import { badRequest, toolNotFound } from "../runtime/errors.js";
import { isSecurityLevelName, type SecurityLevelName } from "../security/security-level.js";
import type { AnyToolDefinition, ToolHandler } from "./define-tool.js";
import { assertValidSchema, createSchemaCompiler } from "./json-schema.js";
import { checkManifestShape, compileManifestSchemas } from "./manifest-validation.js";
import type { ToolManifest } from "./tool-descriptor.js";

/** One registered version of a tool, with its validators compiled once. */
export interface RegisteredTool {
  /** The validated manifest. */
  readonly manifest: ToolManifest;
  /** Tool name. */
  readonly name: string;
  /** Tool version. */
  readonly version: string;
  /** Who may call it. */
  readonly securityLevel: SecurityLevelName;
  /** The handler. */
  readonly handler: ToolHandler;
  /** Validates (and fills defaults into) arguments. */
  readonly validateInput: ValidateFunction;
  /** Validates structured output, when the manifest has an output schema. */
  readonly validateOutput: ValidateFunction | undefined;
  /** Where the manifest came from. */
  readonly source: string | undefined;
}

/** A change to the registry, for listeners (events, MCP list_changed). */
export interface RegistryChange {
  /** What happened. */
  readonly type: "registered" | "unregistered";
  /** The tool version concerned. */
  readonly tool: RegisteredTool;
}

/** Holds every tool version and resolves calls to one. */
export interface ToolRegistry {
  /** Validates the manifest, compiles its schemas and adds the tool; throws on a duplicate version. */
  register(definition: AnyToolDefinition): RegisteredTool;
  /**
   * Registers a tool, or swaps it in for the registered tool of the same name and version in one
   * step: calls already running keep the old handler, calls resolved afterwards get the new one.
   */
  replace(definition: AnyToolDefinition): RegisteredTool;
  /** Marks one version deprecated or not; the default version follows. Throws not_found. */
  setDeprecated(name: string, version: string, deprecated: boolean): RegisteredTool;
  /** Removes one version, or every version when none is given; returns how many were removed. */
  unregister(name: string, version?: string): number;
  /**
   * The tool version a call should run: the default version, an exact version, or the highest
   * matching a semver range. Throws not_found / invalid_argument ConnectErrors.
   */
  resolve(name: string, versionSpec?: string): RegisteredTool;
  /** Every version of a tool, newest first (empty when unknown). */
  versions(name: string): readonly RegisteredTool[];
  /** The default version of every tool, sorted by name. */
  list(): readonly RegisteredTool[];
  /** Number of distinct tool names. */
  readonly size: number;
  /** Subscribes to registrations and removals; returns the unsubscribe function. */
  onChange(listener: (change: RegistryChange) => void): () => void;
}

function securityLevelOf(level: string): SecurityLevelName {
  // The meta-schema already restricts the values; this guards against that drifting.
  if (!isSecurityLevelName(level)) throw new Error(`unknown security level "${level}"`);
  return level;
}

/**
 * Creates an empty tool registry. The default version of a tool is its highest non-deprecated
 * release (pre-releases only when nothing else is left); versions compare as semver.
 */
export function createToolRegistry(): ToolRegistry {
  const byName = new Map<string, RegisteredTool[]>();
  const defaults = new Map<string, RegisteredTool>();
  const listeners = new Set<(change: RegistryChange) => void>();
  let sortedDefaults: RegisteredTool[] | undefined;

  /**
   * Compiles a tool version's schemas in an ajv of its own: ajv never frees what it compiled, so
   * a shared instance would grow with every reload; this one goes when the version does.
   */
  function compiler(): (schema: Record<string, unknown>) => ValidateFunction {
    let ajv: ReturnType<typeof createSchemaCompiler> | undefined;
    // $id carries no meaning here, and would clash between versions of one tool.
    return ({ $id: _ignored, ...rest }) => {
      assertValidSchema(rest);
      ajv ??= createSchemaCompiler();
      return ajv.compile(rest);
    };
  }

  function refreshDefault(name: string): void {
    sortedDefaults = undefined;
    const list = byName.get(name);
    if (list === undefined || list.length === 0) {
      byName.delete(name);
      defaults.delete(name);
      return;
    }
    const pick =
      list.find((t) => t.manifest.deprecated !== true && semver.prerelease(t.version) === null) ??
      list.find((t) => t.manifest.deprecated !== true) ??
      list[0];
    if (pick !== undefined) defaults.set(name, pick);
  }

  function emit(change: RegistryChange): void {
    for (const listener of listeners) listener(change);
  }

  function prepare(definition: AnyToolDefinition): RegisteredTool {
    const { descriptor } = definition;
    // Input was validated against the manifest, so the erased handler type is safe to call.
    const handler = definition.handler as ToolHandler;
    const manifest = checkManifestShape(descriptor.manifest, descriptor.source);
    const compile = compiler();
    // A descriptor written by `toolwire generate` had its schemas compiled there (strict, as
    // here): its validators compile on first use, keeping a server's start free of that work.
    const compiled = isGenerated(descriptor.source)
      ? {
          input: lazyValidator(() => compile(manifest.input as Record<string, unknown>)),
          output: manifest.output === undefined ? undefined : lazyValidator(() => compile(manifest.output as Record<string, unknown>)),
        }
      : compileManifestSchemas(manifest, descriptor.source ?? "(inline manifest)", compile);
    return {
      manifest,
      name: manifest.name,
      version: manifest.version,
      securityLevel: securityLevelOf(manifest.securityLevel ?? "public"),
      handler,
      validateInput: compiled.input,
      validateOutput: compiled.output,
      source: descriptor.source,
    };
  }

  /** Puts `tool` in place of `old` (or adds it) and tells listeners; one synchronous step. */
  function install(tool: RegisteredTool, old: RegisteredTool | undefined): void {
    const others = (byName.get(tool.name) ?? []).filter((t) => t !== old);
    byName.set(tool.name, [...others, tool].sort((a, b) => semver.rcompare(a.version, b.version)));
    refreshDefault(tool.name);
    if (old !== undefined) emit({ type: "unregistered", tool: old });
    emit({ type: "registered", tool });
  }

  function find(name: string, version: string): RegisteredTool | undefined {
    return byName.get(name)?.find((t) => t.version === version);
  }

  return {
    register(definition) {
      const tool = prepare(definition);
      if (find(tool.name, tool.version) !== undefined) {
        throw new Error(
          `tool "${tool.name}" version ${tool.version} is already registered` +
            (tool.source ? ` (from ${tool.source})` : ""),
        );
      }
      install(tool, undefined);
      return tool;
    },

    replace(definition) {
      const tool = prepare(definition);
      install(tool, find(tool.name, tool.version));
      return tool;
    },

    setDeprecated(name, version, deprecated) {
      const old = find(name, version);
      if (old === undefined) throw toolNotFound(name, version, (byName.get(name) ?? []).map((t) => t.version));
      if ((old.manifest.deprecated === true) === deprecated) return old;
      const tool: RegisteredTool = { ...old, manifest: { ...old.manifest, deprecated } };
      install(tool, old);
      return tool;
    },

    unregister(name, version) {
      const list = byName.get(name);
      if (list === undefined) return 0;
      const removed = list.filter((t) => version === undefined || t.version === version);
      byName.set(
        name,
        list.filter((t) => !removed.includes(t)),
      );
      refreshDefault(name);
      for (const tool of removed) emit({ type: "unregistered", tool });
      return removed.length;
    },

    resolve(name, versionSpec) {
      const list = byName.get(name);
      if (list === undefined) throw toolNotFound(name, undefined, []);
      if (versionSpec === undefined || versionSpec === "" || versionSpec === "latest") {
        const tool = defaults.get(name);
        if (tool === undefined) throw toolNotFound(name, undefined, []);
        return tool;
      }
      const available = list.map((t) => t.version);
      if (semver.valid(versionSpec) !== null) {
        const exact = list.find((t) => semver.eq(t.version, versionSpec));
        if (exact === undefined) throw toolNotFound(name, versionSpec, available);
        return exact;
      }
      if (semver.validRange(versionSpec) === null) {
        throw badRequest(
          `version ${JSON.stringify(versionSpec.slice(0, 128))} of tool "${name}" is neither a version nor a semver range (e.g. "1.2.0" or "^1.2")`,
          "INVALID_VERSION",
        );
      }
      const matching = list.filter((t) => semver.satisfies(t.version, versionSpec));
      const tool = matching.find((t) => t.manifest.deprecated !== true) ?? matching[0];
      if (tool === undefined) throw toolNotFound(name, versionSpec, available);
      return tool;
    },

    versions(name) {
      return byName.get(name) ?? [];
    },

    list() {
      sortedDefaults ??= [...defaults.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
      return sortedDefaults;
    },

    get size() {
      return defaults.size;
    },

    onChange(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}

/** Whether a descriptor's source is a manifest `toolwire generate` compiled (`schemas/tools/<name>.json`, as it writes it). */
function isGenerated(source: string | undefined): boolean {
  return source !== undefined && /^schemas\/tools\/[^/]+\.json$/.test(source);
}

/** A validator that compiles its schema on its first call, then behaves as the compiled one (errors included). */
function lazyValidator(compile: () => ValidateFunction): ValidateFunction {
  let compiled: ValidateFunction | undefined;
  const validate = ((data: unknown) => {
    compiled ??= compile();
    const valid = compiled(data);
    validate.errors = compiled.errors;
    return valid;
  }) as ValidateFunction;
  return validate;
}
