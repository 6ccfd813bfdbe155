import type { SecurityLevelName } from "./security-level.js";

/**
 * Who is calling: the outcome of authentication, consulted by authorization and rate limits.
 */
export interface Principal {
  /** Stable caller id for logs, limits and events; never a secret. */
  readonly id: string;
  /** The caller's security level. */
  readonly level: SecurityLevelName;
  /** Explicit grants for restricted tools: tool names or `category:<name>` / `category:*`. */
  readonly grants: readonly string[];
  /** True when no credentials were presented. */
  readonly anonymous: boolean;
}

/** The anonymous caller: public level, no grants. */
export const anonymousPrincipal: Principal = Object.freeze({
  id: "anonymous",
  level: "public",
  grants: Object.freeze([]),
  anonymous: true,
});
