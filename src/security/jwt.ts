import { createPublicKey, type KeyObject } from "node:crypto";
import { createLocalJWKSet, errors, jwtVerify, type JSONWebKeySet, type JWTPayload, type JWTVerifyGetKey } from "jose";
import { invalidCredentials } from "../runtime/errors.js";
import type { Principal } from "./principal.js";
import { isSecurityLevelName, securityLevelRank, type SecurityLevelName } from "./security-level.js";

/** JWT algorithms Toolwire accepts. */
export type JwtAlgorithm = "HS256" | "RS256" | "ES256";

/** How bearer JWTs are verified and mapped to principals. */
export interface JwtOptions {
  /** HS256 shared secret. */
  readonly secret?: string | Uint8Array | undefined;
  /** PEM (SPKI) public key for RS256 or ES256. */
  readonly publicKeyPem?: string | undefined;
  /** A JSON Web Key Set (RS256, ES256). */
  readonly jwks?: JSONWebKeySet | undefined;
  /** Accepted algorithms (default: HS256 with a secret, else RS256 and ES256). */
  readonly algorithms?: readonly JwtAlgorithm[] | undefined;
  /** Required `iss`. */
  readonly issuer?: string | undefined;
  /** Required `aud`. */
  readonly audience?: string | undefined;
  /** Leeway for `exp` and `nbf`, in seconds (default 30). */
  readonly clockToleranceSeconds?: number | undefined;
  /** Claim holding the level (default "toolwire_level"). */
  readonly levelClaim?: string | undefined;
  /** Claim holding the grants: an array or a space-separated string (default "toolwire_grants"). */
  readonly grantsClaim?: string | undefined;
  /** Level of a token without the level claim (default authenticated). */
  readonly defaultLevel?: SecurityLevelName | undefined;
  /** Highest level a token may claim (default admin); a token claiming more is refused. */
  readonly maxLevel?: SecurityLevelName | undefined;
}

/** Verifies a compact JWT and returns its principal; rejects with unauthenticated. */
export type JwtVerifier = (token: string) => Promise<Principal>;

/** Most verified tokens remembered, so a client reusing its token is not re-verified per call. */
const cacheLimit = 1024;

/** Creates a JWT verifier (jose) from exactly one key source. */
export function createJwtVerifier(options: JwtOptions): JwtVerifier {
  const sources = [options.secret, options.publicKeyPem, options.jwks].filter((s) => s !== undefined).length;
  if (sources !== 1) throw new Error("JWT verification needs exactly one of secret, publicKeyPem or jwks");
  let key: Uint8Array | KeyObject | JWTVerifyGetKey;
  // What the key source can verify at all: any other listed algorithm would refuse every token
  // at call time as "malformed", so it fails here instead.
  let usable: readonly JwtAlgorithm[];
  if (options.secret !== undefined) {
    key = typeof options.secret === "string" ? new TextEncoder().encode(options.secret) : options.secret;
    // HS256 with a short secret can be brute-forced offline from any token.
    if (key.length < 32) throw new Error("the JWT HS256 secret must be at least 32 bytes");
    usable = ["HS256"];
  } else if (options.publicKeyPem !== undefined) {
    // createPublicKey would quietly derive the public half of a private key: refuse it, so a
    // private key is never left lying in a server's config by mistake.
    if (/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(options.publicKeyPem)) {
      throw new Error("the JWT public key file holds a private key; give the public key (PEM SPKI) only");
    }
    key = createPublicKey(options.publicKeyPem);
    const p256 = key.asymmetricKeyType === "ec" && key.asymmetricKeyDetails?.namedCurve === "prime256v1";
    usable = key.asymmetricKeyType === "rsa" ? ["RS256"] : p256 ? ["ES256"] : [];
    if (usable.length === 0) throw new Error("the JWT public key must be an RSA key (RS256) or an EC P-256 key (ES256)");
  } else {
    key = createLocalJWKSet(options.jwks as JSONWebKeySet);
    usable = ["RS256", "ES256"];
  }
  const algorithms = options.algorithms ?? usable;
  const unusable = algorithms.filter((a) => !usable.includes(a));
  if (unusable.length > 0) {
    throw new Error(`the configured JWT key verifies ${usable.join(" or ")} only, not ${unusable.join(", ")}`);
  }
  const verifyOptions = {
    algorithms: [...algorithms],
    issuer: options.issuer,
    audience: options.audience,
    clockTolerance: options.clockToleranceSeconds ?? 30,
  };
  const levelClaim = options.levelClaim ?? "toolwire_level";
  const grantsClaim = options.grantsClaim ?? "toolwire_grants";
  const defaultLevel = options.defaultLevel ?? "authenticated";
  const maxRank = securityLevelRank(options.maxLevel ?? "admin");
  const tolerance = verifyOptions.clockTolerance * 1000;
  const cache = new Map<string, { principal: Principal; expires: number }>();

  return async (token) => {
    const cached = cache.get(token);
    if (cached !== undefined) {
      if (Date.now() < cached.expires) return cached.principal;
      cache.delete(token);
    }
    let payload: JWTPayload;
    try {
      // jose's overloads differ per key kind; the union is what we hold.
      ({ payload } = await jwtVerify(token, key as Uint8Array, verifyOptions));
    } catch (err) {
      throw invalidCredentials(describeJoseError(err));
    }
    const principal = principalOf(payload, levelClaim, grantsClaim, defaultLevel, maxRank);
    if (payload.exp !== undefined) {
      if (cache.size >= cacheLimit) cache.delete(cache.keys().next().value as string);
      cache.set(token, { principal, expires: Math.min(payload.exp * 1000 + tolerance, Date.now() + 300_000) });
    }
    return principal;
  };
}

function principalOf(
  payload: JWTPayload,
  levelClaim: string,
  grantsClaim: string,
  defaultLevel: SecurityLevelName,
  maxRank: number,
): Principal {
  if (typeof payload.sub !== "string" || payload.sub.length === 0) {
    throw invalidCredentials("the token has no subject (sub claim)");
  }
  if (payload.exp === undefined) throw invalidCredentials("the token has no expiry (exp claim)");
  const claimed = payload[levelClaim] ?? defaultLevel;
  if (!isSecurityLevelName(claimed)) {
    throw invalidCredentials(`the token's ${levelClaim} claim must be public, authenticated, restricted or admin`);
  }
  if (securityLevelRank(claimed) > maxRank) {
    throw invalidCredentials(`the token claims the ${claimed} level, above what this server accepts from tokens`);
  }
  const rawGrants = payload[grantsClaim] ?? [];
  const grants = typeof rawGrants === "string" ? rawGrants.split(/\s+/).filter((g) => g.length > 0) : rawGrants;
  if (!Array.isArray(grants) || !grants.every((g): g is string => typeof g === "string")) {
    throw invalidCredentials(`the token's ${grantsClaim} claim must be an array of strings or a space-separated string`);
  }
  return Object.freeze({ id: `jwt:${payload.sub}`, level: claimed, grants: Object.freeze([...grants]), anonymous: false });
}

/** Says why jose refused a token, in words that never include the token. */
function describeJoseError(err: unknown): string {
  if (err instanceof errors.JWTExpired) return "the token has expired";
  if (err instanceof errors.JWTClaimValidationFailed) {
    switch (err.claim) {
      case "aud":
        return "the token is not meant for this server (audience)";
      case "iss":
        return "the token was issued by an issuer this server does not trust";
      case "nbf":
        return "the token is not valid yet";
      default:
        return `the token's ${err.claim} claim is ${err.reason === "missing" ? "missing" : "invalid"}`;
    }
  }
  if (err instanceof errors.JOSEAlgNotAllowed) return "the token's signing algorithm is not accepted";
  if (err instanceof errors.JWSSignatureVerificationFailed) return "the token's signature does not verify";
  if (err instanceof errors.JWKSNoMatchingKey) return "no configured key matches the token";
  if (err instanceof errors.JOSENotSupported) return "the token uses an unsupported algorithm or key";
  return "the token is malformed";
}
