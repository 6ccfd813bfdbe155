import { cors } from "@connectrpc/connect";

/** Options of {@link createOriginPolicy}. */
export interface OriginPolicyOptions {
  /** The interface the server listens on; loopback ones get a loopback-only Host default. */
  readonly listenHost: string;
  /**
   * Host header values accepted: "name" (any port), "name:port" or "*.domain". Default: the
   * loopback names when listening on loopback, any host otherwise.
   */
  readonly allowedHosts?: readonly string[] | undefined;
  /** Browser origins allowed cross-origin (CORS); "*" allows any. Default: none. */
  readonly corsOrigins?: readonly string[] | undefined;
}

/** What the policy says about a request's Origin. */
export type OriginVerdict =
  /** No Origin header: not a browser's cross-origin request. */
  | "none"
  /** The page came from the server's own origin. */
  | "same-origin"
  /** An allowed foreign origin: answer with CORS headers. */
  | "cors"
  /** A foreign origin that is not allowed. */
  | "refused";

/**
 * Decides which Host and Origin headers the server answers, against DNS rebinding (a page on a
 * foreign site reaching a server on loopback through a name it controls) and cross-origin use.
 */
export interface OriginPolicy {
  /**
   * Undefined when `host` (the Host or :authority header) is served, else why not.
   * `localAddress` is the address the connection came in on.
   */
  checkHost(host: string | undefined, localAddress?: string | undefined): string | undefined;
  /** Classifies a request's Origin relative to its Host. */
  checkOrigin(origin: string | undefined, host: string | undefined): OriginVerdict;
  /** Headers of a response to an allowed cross-origin request. */
  corsHeaders(origin: string): Record<string, string>;
  /** Headers of the answer to an allowed preflight (OPTIONS) request. */
  preflightHeaders(origin: string): Record<string, string>;
}

const loopbackNames = ["localhost", "127.0.0.1", "::1", "*.localhost"];
// Headers Toolwire's own surfaces read or write, besides the Connect and gRPC-Web ones.
const extraAllowedHeaders = ["Authorization", "X-Api-Key", "X-Request-Id", "Idempotency-Key", "Last-Event-ID", "Mcp-Session-Id", "Mcp-Protocol-Version"];
const extraExposedHeaders = ["Retry-After", "X-Request-Id", "Mcp-Session-Id", "Mcp-Protocol-Version", "WWW-Authenticate"];

/** Whether `host` is an unspecified address: listening there means every interface. */
export function isUnspecifiedHost(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, "");
  return h === "0.0.0.0" || h === "::" || h === "";
}

/** Whether `host` names a loopback interface. */
export function isLoopbackHost(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, "").toLowerCase().replace(/^::ffff:(?=\d+\.)/, "");
  return h === "localhost" || h === "::1" || /^127\.\d+\.\d+\.\d+$/.test(h);
}

/** Creates the Host/Origin/CORS policy of a server. */
export function createOriginPolicy(options: OriginPolicyOptions): OriginPolicy {
  const allowed =
    options.allowedHosts ?? (isLoopbackHost(options.listenHost) ? loopbackNames : undefined);
  const rules = allowed?.map(parseHostRule);
  const loopbackRules = loopbackNames.map(parseHostRule);
  const corsOrigins = new Set((options.corsOrigins ?? []).map((o) => o.toLowerCase()));
  const anyOrigin = corsOrigins.has("*");
  const allowHeaders = [...cors.allowedHeaders, ...extraAllowedHeaders].join(", ");
  const exposeHeaders = [...cors.exposedHeaders, ...extraExposedHeaders].join(", ");
  const allowMethods = [...cors.allowedMethods, "DELETE", "OPTIONS"].join(", ");

  return {
    checkHost(host, localAddress) {
      // HTTP/1.0 clients may send none; a rebinding browser always sends one.
      if (host === undefined) return undefined;
      // Without an allow-list on every interface, any name may reach the server, except through
      // loopback: there only loopback names are served, so a page that rebinds its own name to
      // 127.0.0.1 cannot reach a server listening on 0.0.0.0 from the victim's machine.
      const applied = rules ?? (localAddress !== undefined && isLoopbackHost(localAddress) ? loopbackRules : undefined);
      if (applied === undefined) return undefined;
      const parsed = splitHostPort(host);
      if (parsed !== undefined && applied.some((rule) => rule(parsed.name, parsed.port))) return undefined;
      return (
        `Host "${host.slice(0, 200)}" is not served here (protection against DNS rebinding); ` +
        `accepted hosts: ${(allowed ?? loopbackNames).join(", ")} (server.allowedHosts in the config)`
      );
    },
    checkOrigin(origin, host) {
      if (origin === undefined) return "none";
      const lower = origin.toLowerCase();
      if (host !== undefined && sameOrigin(lower, host.toLowerCase())) return "same-origin";
      return anyOrigin || corsOrigins.has(lower) ? "cors" : "refused";
    },
    corsHeaders(origin) {
      return { "access-control-allow-origin": origin, "access-control-expose-headers": exposeHeaders, vary: "Origin" };
    },
    preflightHeaders(origin) {
      return {
        "access-control-allow-origin": origin,
        "access-control-allow-methods": allowMethods,
        "access-control-allow-headers": allowHeaders,
        "access-control-max-age": "7200",
        vary: "Origin",
      };
    },
  };
}

function parseHostRule(rule: string): (name: string, port: string | undefined) => boolean {
  const parsed = splitHostPort(rule.toLowerCase());
  if (parsed === undefined) return () => false;
  const { name, port } = parsed;
  const matchesName = name.startsWith("*.") ? (n: string) => n.endsWith(name.slice(1)) : (n: string) => n === name;
  return (n, p) => matchesName(n) && (port === undefined || port === p);
}

/** Splits "name:port", "[v6]:port", "name" or a bare IPv6 address. */
function splitHostPort(value: string): { name: string; port: string | undefined } | undefined {
  const v = value.trim().toLowerCase();
  if (v.length === 0) return undefined;
  const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(v);
  if (bracketed !== null) return { name: bracketed[1] ?? "", port: bracketed[2] };
  // Several colons without brackets: a bare IPv6 address (a rule, not a Host header).
  if ((v.match(/:/g) ?? []).length > 1) return { name: v, port: undefined };
  const [name = "", port] = v.split(":", 2);
  if (port !== undefined && !/^\d+$/.test(port)) return undefined;
  return { name, port };
}

function sameOrigin(origin: string, host: string): boolean {
  const match = /^(https?):\/\/([^/]+)$/.exec(origin);
  if (match === null) return false;
  const [, scheme, authority = ""] = match;
  const defaultPort = scheme === "https" ? "443" : "80";
  const a = splitHostPort(authority);
  const b = splitHostPort(host);
  return a !== undefined && b !== undefined && a.name === b.name && (a.port ?? defaultPort) === (b.port ?? defaultPort);
}
