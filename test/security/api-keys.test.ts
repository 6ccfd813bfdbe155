import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { createApiKeyVerifier, hashApiKey } from "../../src/security/index.js";

/** The key's hash as `sha256sum` prints it, from the real binary. */
function sha256sum(key: string): string {
  return execFileSync("sha256sum", { input: Buffer.from(key, "utf8") }).toString().split(" ", 1)[0] ?? "";
}

describe("hashApiKey", () => {
  it.each(["tw_abc", "a key with spaces and ünïcödé ✓", "x".repeat(1000)])("hashes %j as sha256sum does", (key) => {
    const hash = hashApiKey(key);
    expect(hash).toMatch(/^[0-9a-f]{64}$/);
    expect(hash).toBe(sha256sum(key));
    expect(hash).toBe(createHash("sha256").update(Buffer.from(key, "utf8")).digest("hex"));
  });

  it("keeps whitespace as part of the key", () => {
    expect(hashApiKey("key\n")).not.toBe(hashApiKey("key"));
    expect(hashApiKey("key\n")).toBe(sha256sum("key\n"));
  });
});

describe("createApiKeyVerifier", () => {
  const ciKey = "tw_ci-bot-key-0123456789";
  const opsKey = "tw_ops-key-9876543210";
  const verify = createApiKeyVerifier([
    { id: "ci-bot", sha256: sha256sum(ciKey) },
    { id: "ops", sha256: sha256sum(opsKey), level: "restricted", grants: ["execute_command", "category:ops"] },
  ]);

  it("maps a known key to its principal with the default authenticated level", () => {
    expect(verify(ciKey)).toEqual({ id: "ci-bot", level: "authenticated", grants: [], anonymous: false });
  });

  it("maps a known key to its configured level and grants", () => {
    expect(verify(opsKey)).toEqual({ id: "ops", level: "restricted", grants: ["execute_command", "category:ops"], anonymous: false });
  });

  it("returns undefined for unknown keys, near misses included", () => {
    for (const key of ["", "tw_unknown", `${ciKey} `, ciKey.slice(0, -1), ciKey.toUpperCase(), sha256sum(ciKey)]) {
      expect(verify(key)).toBeUndefined();
    }
  });

  it("hands out principals that cannot be changed", () => {
    const principal = verify(opsKey);
    expect(Object.isFrozen(principal)).toBe(true);
    expect(Object.isFrozen(principal?.grants)).toBe(true);
  });

  it("does not share the configured grants array", () => {
    const grants = ["ops"];
    const verifyOne = createApiKeyVerifier([{ id: "one", sha256: hashApiKey("k"), grants }]);
    grants.push("root");
    expect(verifyOne("k")?.grants).toEqual(["ops"]);
  });

  it("accepts an upper-case hex hash", () => {
    const verifyUpper = createApiKeyVerifier([{ id: "upper", sha256: hashApiKey("k").toUpperCase() }]);
    expect(verifyUpper("k")?.id).toBe("upper");
  });

  it.each([
    ["63 digits", "a".repeat(63)],
    ["65 digits", "a".repeat(65)],
    ["66 digits", "a".repeat(66)],
    ["an empty string", ""],
    ["64 characters that are not hex", "z".repeat(64)],
    ["64 hex digits with a trailing non-hex character", `${"a".repeat(64)}g`],
  ])("rejects a configured hash of %s, naming the key", (_name, sha256) => {
    expect(() => createApiKeyVerifier([{ id: "broken", sha256 }])).toThrow('API key "broken": sha256 must be 64 hex digits');
  });
});
