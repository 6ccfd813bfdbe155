import { validateHostHeader, validateOriginHeader } from "@modelcontextprotocol/server";
import type { PlainRequest } from "../server/server-extension.js";

/** Options of {@link createHostGuard}. */
export interface HostGuardOptions {
  /**
   * Host names (no port; IPv6 in brackets) /mcp answers to, on top of the server-wide Host check.
   * Default: whatever the server accepts (its loopback names when it listens on loopback).
   */
  readonly allowedHosts?: readonly string[] | undefined;
  /**
   * Origin host names browsers may call /mcp from, on top of the server-wide Origin check.
   * Default: whatever the server accepts; when only `allowedHosts` is given, those names.
   */
  readonly allowedOrigins?: readonly string[] | undefined;
}

/**
 * Creates the endpoint's own DNS-rebinding check, with the SDK's validators: a page on another site
 * whose name an attacker points at this server arrives with that name in Host and Origin. The
 * server already refuses foreign hosts for every route; this narrows /mcp further, e.g. to keep it
 * local while Connect is served publicly. Returns undefined when nothing narrower was configured,
 * else a function answering why a request is refused (undefined when it may pass).
 */
export function createHostGuard(options: HostGuardOptions): ((req: PlainRequest) => string | undefined) | undefined {
  const hosts = options.allowedHosts === undefined ? undefined : [...options.allowedHosts];
  const origins = options.allowedOrigins === undefined ? hosts : [...options.allowedOrigins];
  if (hosts === undefined && origins === undefined) return undefined;

  return (req) => {
    if (hosts !== undefined) {
      const checked = validateHostHeader(headerOf(req, ":authority") ?? headerOf(req, "host"), hosts);
      if (!checked.ok) return `${checked.message}: /mcp answers only to ${hosts.join(", ")} (DNS rebinding protection)`;
    }
    if (origins !== undefined) {
      const checked = validateOriginHeader(headerOf(req, "origin"), origins);
      if (!checked.ok) return `${checked.message}: browsers may call /mcp only from ${origins.join(", ")}`;
    }
    return undefined;
  };
}

function headerOf(req: PlainRequest, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}
