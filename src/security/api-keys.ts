import { createHash, timingSafeEqual } from "node:crypto";
import type { Principal } from "./principal.js";
import type { SecurityLevelName } from "./security-level.js";

/** One configured API key: only its hash is ever stored. */
export interface ApiKeyEntry {
  /** Caller id in logs, limits and events. */
  readonly id: string;
  /** Hex SHA-256 of the key. */
  readonly sha256: string;
  /** The caller's level (default authenticated). */
  readonly level?: SecurityLevelName | undefined;
  /** Grants for restricted tools. */
  readonly grants?: readonly string[] | undefined;
}

/** Hex SHA-256 of an API key, as the config file stores it (`toolwire hash-key`). */
export function hashApiKey(key: string): string {
  return createHash("sha256").update(key, "utf8").digest("hex");
}

/**
 * Creates the API key check: the presented key is hashed and compared with every configured
 * hash in constant time, so neither the comparison nor the number of keys tried depends on how
 * much of a guess was right. Returns the key's principal, or undefined for an unknown key.
 */
export function createApiKeyVerifier(entries: readonly ApiKeyEntry[]): (key: string) => Principal | undefined {
  const keys = entries.map((entry) => ({
    digest: Buffer.from(entry.sha256, "hex"),
    principal: Object.freeze({
      id: entry.id,
      level: entry.level ?? "authenticated",
      grants: Object.freeze([...(entry.grants ?? [])]),
      anonymous: false,
    }) satisfies Principal,
  }));
  // Checked on the text: Buffer.from(hex) stops quietly at the first bad digit or an odd one out.
  for (const entry of entries) {
    if (!/^[0-9a-fA-F]{64}$/.test(entry.sha256)) throw new Error(`API key "${entry.id}": sha256 must be 64 hex digits`);
  }
  return (presented) => {
    const digest = createHash("sha256").update(presented, "utf8").digest();
    let found: Principal | undefined;
    for (const key of keys) {
      if (timingSafeEqual(digest, key.digest) && found === undefined) found = key.principal;
    }
    return found;
  };
}
