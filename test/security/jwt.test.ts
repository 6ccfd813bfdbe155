import { generateKeyPairSync, type KeyObject } from "node:crypto";
import { Code, ConnectError } from "@connectrpc/connect";
import { exportJWK, SignJWT, type JWTPayload } from "jose";
import { describe, expect, it } from "vitest";
import { createJwtVerifier, type JwtOptions } from "../../src/security/index.js";

const secret = "a-test-secret-that-is-32-bytes-long!";
const otherSecret = "another-secret-also-at-least-32-bytes";
const rsa = generateKeyPairSync("rsa", { modulusLength: 2048 });
const rsaPem = rsa.publicKey.export({ type: "spki", format: "pem" }) as string;
const ec = generateKeyPairSync("ec", { namedCurve: "P-256" });
const ecPem = ec.publicKey.export({ type: "spki", format: "pem" }) as string;
const now = () => Math.floor(Date.now() / 1000);

/** Signs a token; `exp` defaults to a minute ahead and `sub` to "alice" unless given as undefined. */
async function sign(
  claims: JWTPayload,
  key: Uint8Array | KeyObject = new TextEncoder().encode(secret),
  header: { alg: string; kid?: string } = { alg: "HS256" },
): Promise<string> {
  const payload: JWTPayload = { sub: "alice", exp: now() + 60, ...claims };
  for (const [k, v] of Object.entries(payload)) if (v === undefined) delete payload[k];
  return new SignJWT(payload).setProtectedHeader(header).sign(key);
}

/** Runs the verifier and returns the refusal; fails the test when the token is accepted. */
async function refusal(options: JwtOptions, token: string): Promise<ConnectError> {
  const verify = createJwtVerifier(options);
  const error = await verify(token).then(
    (principal) => {
      throw new Error(`token was accepted as ${principal.id}`);
    },
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ConnectError);
  const connectError = error as ConnectError;
  expect(connectError.code).toBe(Code.Unauthenticated);
  // Neither the token nor any of its parts may be echoed back.
  for (const part of [token, ...token.split(".")].filter((p) => p.length > 8)) {
    expect(connectError.message).not.toContain(part);
  }
  return connectError;
}

const b64 = (value: object) => Buffer.from(JSON.stringify(value)).toString("base64url");

describe("HS256 tokens", () => {
  it("accepts a valid token and maps it to a jwt: principal at the default level", async () => {
    const principal = await createJwtVerifier({ secret })(await sign({}));
    expect(principal).toEqual({ id: "jwt:alice", level: "authenticated", grants: [], anonymous: false });
  });

  it("refuses a token expired beyond the leeway", async () => {
    const error = await refusal({ secret }, await sign({ exp: now() - 60 }));
    expect(error.message).toContain("has expired");
  });

  it("accepts a token expired within the default 30 s leeway", async () => {
    const principal = await createJwtVerifier({ secret })(await sign({ exp: now() - 10 }));
    expect(principal.id).toBe("jwt:alice");
  });

  it("refuses a token expired within 30 s when the leeway is set to 0", async () => {
    const error = await refusal({ secret, clockToleranceSeconds: 0 }, await sign({ exp: now() - 10 }));
    expect(error.message).toContain("has expired");
  });

  it("refuses a token that is not valid yet", async () => {
    const error = await refusal({ secret }, await sign({ nbf: now() + 120 }));
    expect(error.message).toContain("not valid yet");
  });

  it("refuses a token for another audience", async () => {
    const error = await refusal({ secret, audience: "toolwire" }, await sign({ aud: "someone-else" }));
    expect(error.message).toContain("audience");
  });

  it("accepts a token for its audience", async () => {
    const principal = await createJwtVerifier({ secret, audience: "toolwire" })(await sign({ aud: ["other", "toolwire"] }));
    expect(principal.id).toBe("jwt:alice");
  });

  it("refuses a token from another issuer", async () => {
    const error = await refusal({ secret, issuer: "https://idp.example" }, await sign({ iss: "https://evil.example" }));
    expect(error.message).toContain("issuer");
  });

  it("refuses a token without the required issuer", async () => {
    const error = await refusal({ secret, issuer: "https://idp.example" }, await sign({}));
    expect(error.message).toContain("issuer");
  });

  it("refuses a token signed with another secret", async () => {
    const error = await refusal({ secret }, await sign({}, new TextEncoder().encode(otherSecret)));
    expect(error.message).toContain("signature does not verify");
  });

  it("refuses an unsecured alg:none token built by hand", async () => {
    const token = `${b64({ alg: "none", typ: "JWT" })}.${b64({ sub: "mallory", exp: now() + 60, toolwire_level: "admin" })}.`;
    const error = await refusal({ secret }, token);
    expect(error.message).toContain("algorithm is not accepted");
  });

  it("refuses a token whose payload was swapped under a valid signature", async () => {
    const [header, , signature] = (await sign({})).split(".");
    const forged = `${header}.${b64({ sub: "alice", exp: now() + 60, toolwire_level: "admin" })}.${signature}`;
    const error = await refusal({ secret }, forged);
    expect(error.message).toContain("signature does not verify");
  });

  it.each([
    ["an empty string", ""],
    ["a word", "garbage"],
    ["three empty parts", ".."],
    ["three parts of noise", "abc.def.ghi"],
    ["a header that is not JSON", `${Buffer.from("not json").toString("base64url")}.${b64({ sub: "x" })}.c2ln`],
    ["two parts", `${b64({ alg: "HS256" })}.${b64({ sub: "x" })}`],
  ])("refuses %s as malformed", async (_name, token) => {
    const error = await refusal({ secret }, token);
    expect(error.message).toMatch(/^\[unauthenticated\] invalid credentials: /);
  });

  it("refuses a token without a subject", async () => {
    const error = await refusal({ secret }, await sign({ sub: undefined }));
    expect(error.message).toContain("no subject");
  });

  it("refuses a token without an expiry", async () => {
    const error = await refusal({ secret }, await sign({ exp: undefined }));
    expect(error.message).toContain("no expiry");
  });

  it("does not serve a cached token past its expiry", async () => {
    const verify = createJwtVerifier({ secret, clockToleranceSeconds: 0 });
    const exp = now() + 1;
    const token = await sign({ exp });
    expect((await verify(token)).id).toBe("jwt:alice");
    await new Promise((r) => setTimeout(r, exp * 1000 + 100 - Date.now()));
    const error = await verify(token).then(
      () => undefined,
      (e: unknown) => ConnectError.from(e),
    );
    expect(error?.message).toContain("has expired");
  });
});

describe("levels and grants", () => {
  it("maps toolwire_level and an array of toolwire_grants", async () => {
    const principal = await createJwtVerifier({ secret })(
      await sign({ toolwire_level: "restricted", toolwire_grants: ["execute_command", "category:ops"] }),
    );
    expect(principal).toEqual({ id: "jwt:alice", level: "restricted", grants: ["execute_command", "category:ops"], anonymous: false });
  });

  it("splits space-separated grants", async () => {
    const principal = await createJwtVerifier({ secret })(await sign({ toolwire_grants: " ops  category:db\tdeploy " }));
    expect(principal.grants).toEqual(["ops", "category:db", "deploy"]);
  });

  it("reads the level and grants from configured claim names", async () => {
    const verify = createJwtVerifier({ secret, levelClaim: "role", grantsClaim: "scope" });
    const principal = await verify(await sign({ role: "admin", scope: "a b", toolwire_level: "public" }));
    expect(principal.level).toBe("admin");
    expect(principal.grants).toEqual(["a", "b"]);
  });

  it("gives a token without a level claim the configured default level", async () => {
    const principal = await createJwtVerifier({ secret, defaultLevel: "public" })(await sign({}));
    expect(principal.level).toBe("public");
  });

  it("refuses a level above maxLevel", async () => {
    const error = await refusal({ secret, maxLevel: "restricted" }, await sign({ toolwire_level: "admin" }));
    expect(error.message).toContain("claims the admin level");
  });

  it("accepts a level at maxLevel", async () => {
    const principal = await createJwtVerifier({ secret, maxLevel: "restricted" })(await sign({ toolwire_level: "restricted" }));
    expect(principal.level).toBe("restricted");
  });

  it("refuses an unknown level", async () => {
    const error = await refusal({ secret }, await sign({ toolwire_level: "superuser" }));
    expect(error.message).toContain("toolwire_level claim must be public, authenticated, restricted or admin");
  });

  it("refuses grants that are not strings", async () => {
    const error = await refusal({ secret }, await sign({ toolwire_grants: ["ok", 7] }));
    expect(error.message).toContain("toolwire_grants claim must be");
  });
});

describe("public keys", () => {
  it("accepts RS256 through a PEM public key", async () => {
    const verify = createJwtVerifier({ publicKeyPem: rsaPem });
    const principal = await verify(await sign({ sub: "svc" }, rsa.privateKey, { alg: "RS256" }));
    expect(principal.id).toBe("jwt:svc");
  });

  it("refuses an RS256 token signed by another key", async () => {
    const other = generateKeyPairSync("rsa", { modulusLength: 2048 });
    const error = await refusal({ publicKeyPem: rsaPem }, await sign({}, other.privateKey, { alg: "RS256" }));
    expect(error.message).toContain("signature does not verify");
  });

  it("refuses HS256 signed with the RSA public key PEM as secret (algorithm confusion)", async () => {
    const token = await sign({ toolwire_level: "admin" }, new TextEncoder().encode(rsaPem));
    const error = await refusal({ publicKeyPem: rsaPem }, token);
    expect(error.message).toContain("algorithm is not accepted");
  });

  it("refuses HS256 tokens to a verifier of RSA keys even when HS256 is listed", () => {
    expect(() => createJwtVerifier({ publicKeyPem: rsaPem, algorithms: ["RS256", "HS256"] })).toThrow(/HS256/);
  });

  it("accepts ES256 through a PEM public key", async () => {
    const principal = await createJwtVerifier({ publicKeyPem: ecPem })(await sign({}, ec.privateKey, { alg: "ES256" }));
    expect(principal.id).toBe("jwt:alice");
  });

  it("accepts ES256 through a local JWKS, choosing the key by kid", async () => {
    const other = generateKeyPairSync("ec", { namedCurve: "P-256" });
    const jwks = {
      keys: [
        { ...(await exportJWK(other.publicKey)), kid: "old", alg: "ES256", use: "sig" },
        { ...(await exportJWK(ec.publicKey)), kid: "current", alg: "ES256", use: "sig" },
      ],
    };
    const verify = createJwtVerifier({ jwks });
    const principal = await verify(await sign({ toolwire_level: "restricted" }, ec.privateKey, { alg: "ES256", kid: "current" }));
    expect(principal).toMatchObject({ id: "jwt:alice", level: "restricted" });
  });

  it("refuses a JWKS token whose kid matches no key", async () => {
    const jwks = { keys: [{ ...(await exportJWK(ec.publicKey)), kid: "current", alg: "ES256" }] };
    const error = await refusal({ jwks }, await sign({}, ec.privateKey, { alg: "ES256", kid: "retired" }));
    expect(error.message).toContain("no configured key matches");
  });

  it("refuses HS256 to a JWKS verifier", async () => {
    const jwks = { keys: [{ ...(await exportJWK(rsa.publicKey)), kid: "k", alg: "RS256" }] };
    const error = await refusal({ jwks }, await sign({}, new TextEncoder().encode(rsaPem), { alg: "HS256", kid: "k" }));
    expect(error.message).toContain("algorithm is not accepted");
  });
});

describe("verifier configuration", () => {
  it("refuses an HS256 secret shorter than 32 bytes", () => {
    expect(() => createJwtVerifier({ secret: "short-secret" })).toThrow("at least 32 bytes");
  });

  it("refuses more or fewer than one key source", () => {
    expect(() => createJwtVerifier({ secret, publicKeyPem: rsaPem })).toThrow("exactly one of");
    expect(() => createJwtVerifier({})).toThrow("exactly one of");
  });

  it("refuses a secret with asymmetric algorithms, which could never verify a token", () => {
    expect(() => createJwtVerifier({ secret, algorithms: ["RS256"] })).toThrow(/HS256/);
  });

  it("refuses PEM keys that neither RS256 nor ES256 can use", () => {
    for (const publicKey of [
      generateKeyPairSync("ec", { namedCurve: "P-384" }).publicKey,
      generateKeyPairSync("ed25519").publicKey,
    ]) {
      const publicKeyPem = publicKey.export({ type: "spki", format: "pem" }) as string;
      expect(() => createJwtVerifier({ publicKeyPem })).toThrow("RSA key (RS256) or an EC P-256 key (ES256)");
    }
  });

  it("refuses an algorithm that does not fit the PEM key's type", () => {
    expect(() => createJwtVerifier({ publicKeyPem: ecPem, algorithms: ["RS256"] })).toThrow(/ES256/);
  });
});
