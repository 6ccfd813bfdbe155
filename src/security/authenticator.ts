import type { Authenticator } from "../runtime/caller.js";
import { invalidCredentials } from "../runtime/errors.js";
import { createApiKeyVerifier, type ApiKeyEntry } from "./api-keys.js";
import type { JwtVerifier } from "./jwt.js";
import { anonymousPrincipal } from "./principal.js";

/** What {@link createAuthenticator} accepts as credentials. */
export interface AuthenticatorOptions {
  /** API keys (hashed). */
  readonly apiKeys?: readonly ApiKeyEntry[] | undefined;
  /** JWT verification, when bearer tokens are accepted. */
  readonly jwt?: JwtVerifier | undefined;
}

const bearer = /^Bearer[ \t]+([\x21-\x7e]+)[ \t]*$/i;
const compactJwt = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*$/;

/**
 * Creates the authenticator of every surface: `Authorization: Bearer <API key or JWT>` or
 * `x-api-key: <API key>`. No credentials make the anonymous public caller; credentials that are
 * present but not valid are refused with unauthenticated, never downgraded to anonymous.
 */
export function createAuthenticator(options: AuthenticatorOptions): Authenticator {
  const verifyKey = createApiKeyVerifier(options.apiKeys ?? []);
  const verifyJwt = options.jwt;
  const acceptsKeys = (options.apiKeys ?? []).length > 0;

  function apiKey(key: string) {
    const principal = acceptsKeys ? verifyKey(key) : undefined;
    if (principal === undefined) {
      throw invalidCredentials(acceptsKeys ? "unknown API key" : "this server accepts no API keys");
    }
    return principal;
  }

  return (caller) => {
    const authorization = caller.headers.get("authorization");
    const xApiKey = caller.headers.get("x-api-key");
    if (authorization === null && xApiKey === null) return anonymousPrincipal;
    if (authorization !== null && xApiKey !== null) {
      throw invalidCredentials("send one credential, either Authorization or x-api-key, not both");
    }
    if (xApiKey !== null) return apiKey(xApiKey.trim());
    const token = bearer.exec(authorization ?? "")?.[1];
    if (token === undefined) {
      throw invalidCredentials('the Authorization header must be "Bearer <API key or token>"');
    }
    if (compactJwt.test(token)) {
      // An API key may have the a.b.c shape too; the key check is cheap and constant-time.
      const keyPrincipal = acceptsKeys ? verifyKey(token) : undefined;
      if (keyPrincipal !== undefined) return keyPrincipal;
      if (verifyJwt === undefined) throw invalidCredentials("this server accepts no JWT bearer tokens");
      return verifyJwt(token);
    }
    return apiKey(token);
  };
}
