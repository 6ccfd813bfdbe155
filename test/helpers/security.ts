import { hashApiKey, type ApiKeyEntry } from "../../src/security/index.js";
import type { SecurityLevelName } from "../../src/security/index.js";

/** A test caller: the API key it sends (none for anonymous) and its configured entry. */
export interface TestCaller {
  readonly name: string;
  readonly key: string | undefined;
  readonly entry: ApiKeyEntry | undefined;
}

/** Makes an API-key caller with a level and grants. */
export function keyCaller(name: string, level: SecurityLevelName, grants: readonly string[] = []): TestCaller {
  const key = `test-key-${name}-0123456789`;
  return { name, key, entry: { id: name, sha256: hashApiKey(key), level, grants } };
}

/** The anonymous caller (sends nothing). */
export const anonymousCaller: TestCaller = { name: "anonymous", key: undefined, entry: undefined };

/** Headers that carry a caller's key (as x-api-key, or as a bearer token). */
export function authHeaders(caller: TestCaller, as: "x-api-key" | "bearer" = "bearer"): Record<string, string> {
  if (caller.key === undefined) return {};
  return as === "bearer" ? { authorization: `Bearer ${caller.key}` } : { "x-api-key": caller.key };
}
