import { BlockList, isIP } from "node:net";

/** Finds the client's address of a request: the socket's, or X-Forwarded-For's when a trusted proxy sent it. */
export type ClientAddressResolver = (socketAddress: string | undefined, forwardedFor: string | readonly string[] | undefined) => string | undefined;

function unmapped(address: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  return mapped?.[1] ?? address;
}

/** Whether a socket's peer address is one of the trusted proxies. */
export type TrustedProxyMatcher = (address: string | undefined) => boolean;

/**
 * Creates the test for `server.trustedProxies` (addresses or CIDR ranges such as "10.0.0.0/8"
 * or "fd00::/8"): whether a socket's peer is one of the operator's own proxies. Throws on an
 * entry that is neither an address nor a range.
 */
export function createTrustedProxyMatcher(trustedProxies: readonly string[]): TrustedProxyMatcher {
  if (trustedProxies.length === 0) return () => false;
  const trusted = new BlockList();
  for (const entry of trustedProxies) {
    const [address = "", prefix, extra] = entry.split("/");
    const family = isIP(address);
    const bits = prefix === undefined ? (family === 6 ? 128 : 32) : Number(prefix);
    if (family === 0 || extra !== undefined || !Number.isInteger(bits) || bits < 0 || bits > (family === 6 ? 128 : 32) || prefix === "") {
      throw new Error(`"${entry.slice(0, 60)}" is not an IP address or a CIDR range such as 10.0.0.0/8 or fd00::/8`);
    }
    trusted.addSubnet(address, bits, family === 6 ? "ipv6" : "ipv4");
  }
  return (address) => {
    if (address === undefined) return false;
    const plain = unmapped(address);
    const family = isIP(plain);
    return family !== 0 && trusted.check(plain, family === 6 ? "ipv6" : "ipv4");
  };
}

/**
 * Creates the resolver for `server.trustedProxies`. Behind a balancer every request comes from
 * the balancer, so per-address rate limits and audit lines need the address the balancer saw.
 * X-Forwarded-For is read from the right, skipping trusted proxies, as nginx's
 * `real_ip_recursive on` does: the first address no trusted proxy vouches for is the client. A
 * request from an untrusted socket keeps its socket address, so a client cannot pick its own by
 * sending the header. Takes the list, or a matcher made from it already (so it is parsed once).
 * Throws on an entry that is neither an address nor a range.
 */
export function createClientAddressResolver(trustedProxies: readonly string[] | TrustedProxyMatcher): ClientAddressResolver {
  if (typeof trustedProxies !== "function" && trustedProxies.length === 0) return (socketAddress) => socketAddress;
  const isTrusted = typeof trustedProxies === "function" ? trustedProxies : createTrustedProxyMatcher(trustedProxies);
  return (socketAddress, forwardedFor) => {
    if (socketAddress === undefined || forwardedFor === undefined || !isTrusted(socketAddress)) return socketAddress;
    const hops = (typeof forwardedFor === "string" ? [forwardedFor] : forwardedFor)
      .flatMap((value) => value.split(","))
      .map((hop) => hop.trim())
      .filter((hop) => hop !== "");
    let client = socketAddress;
    for (let i = hops.length - 1; i >= 0; i--) {
      const hop = hops[i] ?? "";
      // Garbage in the header ends the walk: what we have is the last address a trusted proxy vouched for.
      if (isIP(unmapped(hop)) === 0) break;
      client = unmapped(hop);
      if (!isTrusted(client)) break;
    }
    return client;
  };
}
