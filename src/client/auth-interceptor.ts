import { Code, ConnectError, type Interceptor } from "@connectrpc/connect";

/**
 * Supplies a bearer token for each call (and each retry), e.g. from an OAuth client that refreshes
 * it; may return the same token until it expires.
 */
export type TokenProvider = (signal: AbortSignal) => string | Promise<string>;

/** Credentials the client sends with every call: one of them. */
export interface AuthOptions {
  /** An API key, sent as the `x-api-key` header. */
  readonly apiKey?: string;
  /** A bearer token, or a function returning one, sent as `Authorization: Bearer <token>`. */
  readonly token?: string | TokenProvider;
}

/**
 * Adds credentials to every request. A header the call set itself is left alone. A token
 * provider that throws fails the call with unauthenticated before anything is sent.
 */
export function createAuthInterceptor(auth: AuthOptions): Interceptor {
  const { apiKey, token } = auth;
  if (apiKey !== undefined && token !== undefined) {
    // The server refuses a request that carries both.
    throw new Error("give the client an apiKey or a token, not both");
  }
  return (next) => async (req) => {
    if (apiKey !== undefined && !req.header.has("x-api-key")) req.header.set("x-api-key", apiKey);
    if (token !== undefined && !req.header.has("authorization")) {
      let value: string;
      try {
        value = typeof token === "string" ? token : await token(req.signal);
      } catch (err) {
        throw new ConnectError(`could not get a token to call ${req.method.name}: ${ConnectError.from(err).rawMessage}`, Code.Unauthenticated, undefined, undefined, err);
      }
      req.header.set("authorization", `Bearer ${value}`);
    }
    return next(req);
  };
}
