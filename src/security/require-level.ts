import { Code, ConnectError } from "@connectrpc/connect";
import type { Principal } from "./principal.js";
import { securityLevelRank, type SecurityLevelName } from "./security-level.js";

/**
 * Why `principal` may not use something that needs `needed` (`what` names it, e.g. "reloading
 * plugins"): unauthenticated for the anonymous caller, permission_denied for a known one whose
 * level is too low; undefined when allowed. Admin passes everything.
 */
export function levelRefusal(principal: Principal, needed: SecurityLevelName, what: string): ConnectError | undefined {
  if (principal.level === "admin" || securityLevelRank(principal.level) >= securityLevelRank(needed)) return undefined;
  if (principal.anonymous) {
    return new ConnectError(
      `${what} requires ${needed === "authenticated" ? "an authenticated caller" : `the ${needed} level`}; ` +
        "send credentials (Authorization: Bearer <key or token>)",
      Code.Unauthenticated,
    );
  }
  return new ConnectError(`${what} requires the ${needed} level; caller "${principal.id}" has ${principal.level}`, Code.PermissionDenied);
}
