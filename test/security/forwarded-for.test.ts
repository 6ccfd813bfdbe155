import { describe, expect, it } from "vitest";
import { createClientAddressResolver } from "../../src/security/forwarded-for.js";

describe("createClientAddressResolver", () => {
  const resolve = createClientAddressResolver(["10.0.0.0/8", "127.0.0.1", "fd00::/8"]);

  it("keeps the socket address when no proxy is trusted, whatever the header says", () => {
    expect(createClientAddressResolver([])("192.0.2.1", "203.0.113.9")).toBe("192.0.2.1");
  });

  it("ignores X-Forwarded-For from a socket it does not trust, so clients cannot choose their address", () => {
    expect(resolve("192.0.2.1", "203.0.113.9")).toBe("192.0.2.1");
  });

  it("takes the address a trusted proxy appended", () => {
    expect(resolve("127.0.0.1", "203.0.113.9")).toBe("203.0.113.9");
    expect(resolve("::ffff:127.0.0.1", "203.0.113.9")).toBe("203.0.113.9");
  });

  it("walks from the right past trusted proxies and stops at the first untrusted hop", () => {
    // The client forged "198.51.100.1"; the edge proxy appended the real 203.0.113.9, then an inner proxy.
    expect(resolve("127.0.0.1", "198.51.100.1, 203.0.113.9, 10.1.2.3")).toBe("203.0.113.9");
    expect(resolve("127.0.0.1", ["198.51.100.1, 203.0.113.9", "10.1.2.3"])).toBe("203.0.113.9");
    expect(resolve("fd00::1", "2001:db8::7")).toBe("2001:db8::7");
  });

  it("stops at garbage in the header and keeps the last address a trusted proxy vouched for", () => {
    expect(resolve("127.0.0.1", "not-an-ip, 10.1.2.3")).toBe("10.1.2.3");
    expect(resolve("127.0.0.1", "")).toBe("127.0.0.1");
  });

  it("keeps the socket address when there is no header", () => {
    expect(resolve("127.0.0.1", undefined)).toBe("127.0.0.1");
  });

  it.each(["10.0.0.0/33", "example.com", "10.0.0.0/", "10.0.0.0/8/8", "fd00::/129"])("refuses %j with a message naming the format", (entry) => {
    expect(() => createClientAddressResolver([entry])).toThrow(/is not an IP address or a CIDR range such as 10\.0\.0\.0\/8/);
  });
});
