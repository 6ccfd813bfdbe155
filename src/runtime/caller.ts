import type { Principal } from "../security/principal.js";

/** What a transport knows about the caller before authentication. */
export interface CallerInfo {
  /** Request headers (credentials, request id). */
  readonly headers: Headers;
  /** Remote address, when the transport knows it. */
  readonly peer?: string | undefined;
  /** Which surface the request came in on, e.g. "connect", "grpc", "grpc_web", "mcp". */
  readonly protocol: string;
}

/**
 * Turns caller information into a principal. Resolves the anonymous principal when no
 * credentials are present; rejects with an unauthenticated ConnectError when bad ones are.
 */
export type Authenticator = (caller: CallerInfo) => Principal | Promise<Principal>;
