import { isIPv4, isIPv6 } from "node:net";

/**
 * The rate-limit key of a client address. IPv4 addresses (also when IPv4-mapped) are keyed as
 * they are; IPv6 addresses by their /64, since one host usually owns a whole /64 and could
 * otherwise rotate through it to escape the limit.
 */
export function clientAddressKey(address: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped?.[1] !== undefined) return `ip:${mapped[1]}`;
  if (isIPv4(address)) return `ip:${address}`;
  if (!isIPv6(address)) return `ip:${address}`;
  const zoneless = address.split("%", 1)[0] ?? address;
  const [head = "", tail] = zoneless.split("::", 2);
  const headGroups = head === "" ? [] : head.split(":");
  const tailGroups = tail === undefined || tail === "" ? [] : tail.split(":");
  // A dotted IPv4 tail ("::1:2:3:4.5.6.7") fills two groups.
  const width = (groups: string[]) => groups.reduce((n, g) => n + (g.includes(".") ? 2 : 1), 0);
  const missing = 8 - width(headGroups) - width(tailGroups);
  const groups = tail === undefined ? headGroups : [...headGroups, ...Array<string>(Math.max(0, missing)).fill("0"), ...tailGroups];
  const prefix = groups.slice(0, 4).map((g) => (Number.parseInt(g, 16) || 0).toString(16));
  return `ip:${prefix.join(":")}::/64`;
}
