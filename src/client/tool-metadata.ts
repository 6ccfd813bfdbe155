import { SecurityLevel, type Tool } from "../../gen/proto/toolwire/v1/tool_pb.js";
import type { SecurityLevelName } from "../security/security-level.js";

/** Looks up one tool as the server describes it (GetTool). */
export type ToolLookup = (name: string, version: string) => Promise<Tool>;

/** Caches what the server says about tools, so policy checks cost one GetTool per tool and TTL. */
export interface ToolMetadataCache {
  /** The tool, from the cache or the server; concurrent lookups of one tool share a request. */
  get(name: string, version: string): Promise<Tool>;
  /** Stores tools a listing returned (at their default versions). */
  prime(tools: readonly Tool[]): void;
  /** Forgets everything, e.g. after reconnecting to a server that may have changed. */
  clear(): void;
}

/** Creates a metadata cache whose entries live `ttlMs` (default 30 s). */
export function createToolMetadataCache(lookup: ToolLookup, ttlMs = 30_000): ToolMetadataCache {
  const entries = new Map<string, { readonly tool: Tool; readonly expires: number }>();
  const pending = new Map<string, Promise<Tool>>();
  const key = (name: string, version: string) => `${name}@${version}`;
  return {
    get(name, version) {
      const k = key(name, version);
      const hit = entries.get(k);
      if (hit !== undefined && hit.expires > Date.now()) return Promise.resolve(hit.tool);
      let p = pending.get(k);
      if (p === undefined) {
        p = lookup(name, version).then(
          (tool) => {
            pending.delete(k);
            entries.set(k, { tool, expires: Date.now() + ttlMs });
            return tool;
          },
          (err: unknown) => {
            pending.delete(k);
            throw err;
          },
        );
        pending.set(k, p);
      }
      return p;
    },
    prime(tools) {
      const expires = Date.now() + ttlMs;
      for (const tool of tools) entries.set(key(tool.name, ""), { tool, expires });
    },
    clear() {
      entries.clear();
    },
  };
}

const levelNames: Record<SecurityLevel, SecurityLevelName> = {
  [SecurityLevel.UNSPECIFIED]: "public",
  [SecurityLevel.PUBLIC]: "public",
  [SecurityLevel.AUTHENTICATED]: "authenticated",
  [SecurityLevel.RESTRICTED]: "restricted",
  [SecurityLevel.ADMIN]: "admin",
};

/** The name of a tool's security level ("public", "authenticated", "restricted", "admin"). */
export function securityLevelOf(tool: Tool): SecurityLevelName {
  return levelNames[tool.securityLevel] ?? "admin";
}

/** The MCP-style annotations of a tool as a server describes it, with only the hints it set; undefined without any. */
export function annotationsOf(tool: Tool): Record<string, boolean> | undefined {
  const a = tool.annotations;
  if (a === undefined) return undefined;
  return {
    ...(a.readOnlyHint === undefined ? {} : { readOnlyHint: a.readOnlyHint }),
    ...(a.destructiveHint === undefined ? {} : { destructiveHint: a.destructiveHint }),
    ...(a.idempotentHint === undefined ? {} : { idempotentHint: a.idempotentHint }),
    ...(a.openWorldHint === undefined ? {} : { openWorldHint: a.openWorldHint }),
  };
}
