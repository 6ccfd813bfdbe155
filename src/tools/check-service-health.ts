import dns, { type LookupAddress } from "node:dns";
import http, { type IncomingMessage } from "node:http";
import https from "node:https";
import net from "node:net";
import {
  checkServiceHealthTool,
  type CheckServiceHealthOutput,
  type HealthCheckResult,
  type HttpEndpoint,
  type TcpEndpoint,
} from "../../gen/tools/check_service_health.js";
import { abortable } from "../registry/abortable.js";
import { defineTool } from "../registry/define-tool.js";
import { ToolError } from "../registry/tool-result.js";
import { round2 } from "./round.js";

/**
 * Addresses the tool never connects to: link-local (which holds the cloud metadata service at
 * 169.254.169.254 and its IPv6 twin fe80::/10), "this network" 0.0.0.0/8 and the unspecified ::
 * (both reach the local host), the same ranges embedded in NAT64 addresses, and the metadata
 * services that live elsewhere (AWS's IPv6 fd00:ec2::254, Alibaba's 100.100.100.200).
 * IPv4-mapped IPv6 addresses (::ffff:169.254.169.254) are checked against the IPv4 rules.
 * Loopback and private ranges stay allowed: checking local and internal services is the point.
 */
export const blockedAddresses: net.BlockList = (() => {
  const list = new net.BlockList();
  list.addSubnet("169.254.0.0", 16, "ipv4");
  list.addSubnet("0.0.0.0", 8, "ipv4");
  list.addAddress("100.100.100.200", "ipv4");
  list.addSubnet("fe80::", 10, "ipv6");
  list.addAddress("::", "ipv6");
  list.addAddress("fd00:ec2::254", "ipv6");
  // NAT64 (RFC 6052 well-known prefix) forms of 169.254.0.0/16 and 0.0.0.0/8.
  list.addSubnet("64:ff9b::a9fe:0", 112, "ipv6");
  list.addSubnet("64:ff9b::", 104, "ipv6");
  return list;
})();

/** Whether `address` (an IP address, maybe with an IPv6 zone) is one the tool refuses to probe. */
export function isBlockedAddress(address: string): boolean {
  const bare = address.replace(/%.*$/, "");
  const family = net.isIP(bare);
  // Not an IP address at all: refuse rather than guess.
  if (family === 0) return true;
  return blockedAddresses.check(bare, family === 4 ? "ipv4" : "ipv6");
}

/** An endpoint the tool refuses to probe; becomes that endpoint's unhealthy result. */
class RefusedAddress extends Error {
  constructor(host: string, address: string) {
    super(
      `refused: ${host === address ? address : `${host} resolves to ${address}, which`} is a link-local, cloud metadata or ` +
        `unspecified address; check_service_health does not probe those`,
    );
  }
}

/**
 * The `check_service_health` tool: connects to TCP endpoints and GETs HTTP ones, all at once,
 * each within its own time limit. An unreachable endpoint is a result, not a failure.
 *
 * Each host is resolved once, every address it resolves to is checked against
 * {@link blockedAddresses}, and the connection goes to those very addresses (the URL's host
 * still names the HTTP Host header and TLS SNI), so DNS cannot answer differently between the
 * check and the connect.
 */
export const checkServiceHealth = defineTool(checkServiceHealthTool, async (input, ctx): Promise<CheckServiceHealthOutput> => {
  const timeoutMs = input.timeoutMs ?? 5000;
  for (const e of input.endpoints) {
    if (e.type === "http" && !/^https?:$/.test(safeUrl(e.url)?.protocol ?? "")) {
      throw new ToolError(`endpoint ${JSON.stringify(e.url)} is not an http or https URL`);
    }
  }
  const results = await Promise.all(input.endpoints.map((e) => check(e, timeoutMs, ctx.signal)));
  // Results gathered after a cancel only say "aborted"; the call as a whole is what failed.
  ctx.signal.throwIfAborted();
  return { overall: results.every((r) => r.healthy) ? "healthy" : "degraded", results };
});

async function check(endpoint: TcpEndpoint | HttpEndpoint, timeoutMs: number, callSignal: AbortSignal): Promise<HealthCheckResult> {
  // Our own controller rather than AbortSignal.timeout() so the timer is cleared, not left to fire.
  const timeout = new AbortController();
  const timer = setTimeout(() => timeout.abort(new Error(`timed out after ${timeoutMs} ms`)), timeoutMs);
  const signal = AbortSignal.any([callSignal, timeout.signal]);
  const target = endpoint.type === "tcp" ? hostPort(endpoint.host, endpoint.port) : endpoint.url;
  const base = { name: endpoint.name ?? target, type: endpoint.type, target };
  const started = performance.now();
  const elapsed = () => round2(performance.now() - started);
  try {
    if (endpoint.type === "tcp") {
      const addresses = await resolveAllowed(endpoint.host, signal);
      await probeTcp(endpoint.host, endpoint.port, addresses, signal);
      return { ...base, healthy: true, latencyMs: elapsed() };
    }
    const url = new URL(endpoint.url);
    // URL keeps IPv6 literals in brackets.
    const addresses = await resolveAllowed(url.hostname.replace(/^\[(.*)\]$/, "$1"), signal);
    const status = await probeHttp(url, addresses, signal);
    const latencyMs = elapsed();
    const healthy = endpoint.expectStatus !== undefined ? status === endpoint.expectStatus : status >= 200 && status < 400;
    if (healthy) return { ...base, healthy, latencyMs, status };
    const expected = endpoint.expectStatus !== undefined ? `status ${endpoint.expectStatus}` : "a 2xx or 3xx status";
    return { ...base, healthy, latencyMs, status, error: `expected ${expected}, got ${status}` };
  } catch (err) {
    return { ...base, healthy: false, latencyMs: elapsed(), error: describeFailure(err, signal) };
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Every address `host` resolves to (the system resolver, as connecting would use), rejecting
 * with {@link RefusedAddress} when any of them is blocked: a name that also points at the
 * metadata service is not one to probe.
 */
async function resolveAllowed(host: string, signal: AbortSignal): Promise<LookupAddress[]> {
  const lookup = dns.promises.lookup(host, { all: true, verbatim: true });
  // getaddrinfo cannot be cancelled; stop waiting for it instead.
  const addresses = await abortable(lookup, signal);
  if (addresses.length === 0) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), { code: "ENOTFOUND" });
  const blocked = addresses.find((a) => isBlockedAddress(a.address));
  if (blocked !== undefined) throw new RefusedAddress(host, blocked.address);
  return addresses;
}

/**
 * A lookup function for net/http/tls that answers with `addresses` only, so the connection goes
 * to what was checked. Honours a requested family; Node's happy eyeballs asks for all of them.
 */
function pinnedLookup(addresses: readonly LookupAddress[]): net.LookupFunction {
  return (hostname, options, callback) => {
    const family = options.family === "IPv4" ? 4 : options.family === "IPv6" ? 6 : options.family;
    const usable = family === 4 || family === 6 ? addresses.filter((a) => a.family === family) : [...addresses];
    const first = usable[0];
    if (first === undefined) {
      const err: NodeJS.ErrnoException = Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: "ENOTFOUND" });
      callback(err, "", undefined);
    } else if (options.all === true) {
      callback(null, usable);
    } else {
      callback(null, first.address, first.family);
    }
  };
}

/**
 * Resolves once a TCP connection to one of `addresses` is established (and closes it at once),
 * rejects on error or abort. `host` is never resolved again.
 */
export function probeTcp(host: string, port: number, addresses: readonly LookupAddress[], signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) {
      reject(signal.reason);
      return;
    }
    const socket = net.connect({ host, port, lookup: pinnedLookup(addresses) });
    let settled = false;
    const settle = (err?: unknown) => {
      if (settled) return;
      settled = true;
      signal.removeEventListener("abort", onAbort);
      socket.destroy();
      if (err === undefined) resolve();
      else reject(err);
    };
    const onAbort = () => settle(signal.reason);
    signal.addEventListener("abort", onAbort, { once: true });
    socket.once("connect", () => settle());
    // Stays attached: an error after the settle must not go unhandled.
    socket.on("error", (err) => settle(err));
  });
}

/**
 * GETs `url` over a fresh connection to one of `addresses` (the URL's host is never resolved
 * again, but still names the Host header and the TLS server name) and resolves with the status
 * once the response headers arrive. Redirects are not followed: a redirect is the endpoint's
 * answer, and following it would check a different service.
 */
export function probeHttp(url: URL, addresses: readonly LookupAddress[], signal: AbortSignal): Promise<number> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) {
      reject(signal.reason);
      return;
    }
    const client = url.protocol === "https:" ? https : http;
    const request = client.get(url, {
      // No pooled socket: each check makes (and measures) its own connection.
      agent: false,
      lookup: pinnedLookup(addresses),
      headers: { "user-agent": "toolwire-check-service-health", connection: "close" },
    });
    let settled = false;
    const settle = (err: unknown, status?: number) => {
      if (settled) return;
      settled = true;
      signal.removeEventListener("abort", onAbort);
      // Only the status matters; drop the body and the connection.
      request.destroy();
      if (status !== undefined) resolve(status);
      else reject(err);
    };
    const onAbort = () => settle(signal.reason);
    signal.addEventListener("abort", onAbort, { once: true });
    request.once("response", (response: IncomingMessage) => {
      // Destroying the request mid-body may make the response report the cut; that is expected.
      response.on("error", () => undefined);
      settle(undefined, response.statusCode ?? 0);
    });
    // Stays attached: a socket error after the settle must not go unhandled.
    request.on("error", (err) => settle(err));
  });
}

function describeFailure(err: unknown, signal: AbortSignal): string {
  if (signal.aborted) {
    const reason: unknown = signal.reason;
    return reason instanceof Error && reason.name !== "AbortError" ? reason.message : "check cancelled";
  }
  // Happy eyeballs reports every failed address at once, with an empty message.
  if (err instanceof AggregateError && err.message === "") {
    return err.errors.map((e: unknown) => (e instanceof Error ? e.message : String(e))).join("; ");
  }
  return err instanceof Error ? err.message : String(err);
}

function hostPort(host: string, port: number): string {
  return host.includes(":") ? `[${host}]:${port}` : `${host}:${port}`;
}

function safeUrl(url: string): URL | undefined {
  try {
    return new URL(url);
  } catch {
    return undefined;
  }
}
