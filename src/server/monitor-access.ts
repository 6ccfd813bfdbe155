import { Code, ConnectError } from "@connectrpc/connect";
import type { Logger } from "pino";
import type { CallPipeline } from "../runtime/call-pipeline.js";
import type { CallerInfo } from "../runtime/caller.js";
import { anonymousPrincipal, type Principal } from "../security/principal.js";
import { levelRefusal } from "../security/require-level.js";
import type { SecurityLevelName } from "../security/security-level.js";

/** The monitoring surfaces whose access is configurable. */
export type MonitorSurface = "events" | "stats" | "metrics";

/** The security level each monitoring surface requires. */
export type MonitorAccessLevels = Readonly<Record<MonitorSurface, SecurityLevelName>>;

const surfaceNames: Record<MonitorSurface, string> = {
  events: "watching events",
  stats: "reading statistics",
  metrics: "reading metrics",
};

/** Checks callers of the monitoring surfaces against the levels they require. */
export interface MonitorAccess {
  /**
   * Authenticates the caller through the pipeline (so API keys, tokens and request limits
   * apply as on every surface) and checks its level; rejects with unauthenticated or
   * permission_denied, logged as a warning.
   */
  check(surface: MonitorSurface, caller: CallerInfo): Promise<Principal>;
}

/** Creates the access check of the monitoring surfaces. */
export function createMonitorAccess(pipeline: CallPipeline, levels: MonitorAccessLevels, logger: Logger): MonitorAccess {
  function deny(surface: MonitorSurface, caller: CallerInfo, principal: Principal | undefined, error: ConnectError): never {
    logger.warn(
      { surface, callerId: principal?.id, protocol: caller.protocol, peer: caller.peer, code: Code[error.code], reason: error.rawMessage },
      "monitoring access denied",
    );
    throw error;
  }

  return {
    async check(surface, caller) {
      // Once draining, the pipeline authenticates no one; what anyone may read stays readable,
      // so clients and scrapers can watch the server drain (GetServerInfo says DRAINING).
      if (pipeline.draining && levels[surface] === "public") return anonymousPrincipal;
      let principal: Principal;
      try {
        principal = await pipeline.authenticate(caller);
      } catch (err) {
        const error = ConnectError.from(err);
        if (error.code === Code.Unauthenticated) deny(surface, caller, undefined, error);
        throw error;
      }
      const error = levelRefusal(principal, levels[surface], surfaceNames[surface]);
      if (error === undefined) return principal;
      return deny(surface, caller, principal, error);
    },
  };
}
