import { permissionDenied, unauthenticated } from "../runtime/errors.js";
import type { ConnectError } from "@connectrpc/connect";
import type { Principal } from "./principal.js";
import { securityLevelRank, type SecurityLevelName } from "./security-level.js";

/** What authorization needs to know about a tool. */
export interface AuthorizationTarget {
  /** Tool name. */
  readonly name: string;
  /** The tool's level. */
  readonly securityLevel: SecurityLevelName;
  /** The tool's category, for `category:<name>` grants. */
  readonly category?: string | undefined;
}

/**
 * Decides whether `principal` may call `tool`: its level must be at least the tool's, and a
 * restricted tool also needs a grant (the tool name, `category:<category>` or `category:*`)
 * unless the caller is admin. Returns undefined when allowed, else the error to answer.
 */
export function checkAccess(principal: Principal, tool: AuthorizationTarget): ConnectError | undefined {
  const needed = tool.securityLevel;
  if (needed === "public" || principal.level === "admin") return undefined;
  if (securityLevelRank(principal.level) < securityLevelRank(needed)) {
    return principal.anonymous
      ? unauthenticated(tool.name, needed)
      : permissionDenied(
          tool.name,
          `tool "${tool.name}" requires the ${needed} level; caller "${principal.id}" has ${principal.level}`,
          needed,
        );
  }
  if (needed === "restricted" && !hasGrant(principal, tool)) {
    return permissionDenied(
      tool.name,
      `tool "${tool.name}" is restricted; caller "${principal.id}" needs a grant for "${tool.name}"` +
        (tool.category ? ` or "category:${tool.category}"` : ""),
      needed,
    );
  }
  return undefined;
}

function hasGrant(principal: Principal, tool: AuthorizationTarget): boolean {
  return principal.grants.some(
    (g) => g === tool.name || g === "category:*" || (tool.category !== undefined && g === `category:${tool.category}`),
  );
}
