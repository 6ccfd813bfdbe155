/**
 * Security levels, ordered from least to most privileged.
 */
export const securityLevels = ["public", "authenticated", "restricted", "admin"] as const;

/** Name of a security level, as written in manifests and configuration. */
export type SecurityLevelName = (typeof securityLevels)[number];

/** Rank of a level: a higher rank may call everything a lower one may. */
export function securityLevelRank(level: SecurityLevelName): number {
  return securityLevels.indexOf(level);
}

/** Whether `value` names a security level. */
export function isSecurityLevelName(value: unknown): value is SecurityLevelName {
  return typeof value === "string" && (securityLevels as readonly string[]).includes(value);
}
