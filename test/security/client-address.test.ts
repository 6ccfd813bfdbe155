import { describe, expect, it } from "vitest";
import { clientAddressKey } from "../../src/security/index.js";

describe("clientAddressKey", () => {
  it.each([
    ["127.0.0.1", "ip:127.0.0.1"],
    ["203.0.113.7", "ip:203.0.113.7"],
  ])("keys the IPv4 address %s as it is", (address, key) => {
    expect(clientAddressKey(address)).toBe(key);
  });

  it("keys an IPv4-mapped IPv6 address as its IPv4 address", () => {
    expect(clientAddressKey("::ffff:203.0.113.7")).toBe("ip:203.0.113.7");
    expect(clientAddressKey("::FFFF:203.0.113.7")).toBe("ip:203.0.113.7");
  });

  it("keys every address of one IPv6 /64 alike", () => {
    const addresses = [
      "2001:db8:1:2::1",
      "2001:db8:1:2:ffff:ffff:ffff:ffff",
      "2001:0db8:0001:0002:0000:0000:0000:0001",
      "2001:DB8:1:2:aaaa::",
      "2001:db8:1:2:1:2:3:4",
      "2001:db8:1:2::7%eth0",
    ];
    const keys = new Set(addresses.map(clientAddressKey));
    expect([...keys]).toEqual(["ip:2001:db8:1:2::/64"]);
  });

  it("keys neighbouring IPv6 /64s apart", () => {
    expect(clientAddressKey("2001:db8:1:3::1")).toBe("ip:2001:db8:1:3::/64");
    expect(clientAddressKey("2001:db8:1::1")).toBe("ip:2001:db8:1:0::/64");
    expect(clientAddressKey("2001:db8::1:2:3:4")).toBe("ip:2001:db8:0:0::/64");
  });

  it.each([
    ["::1", "ip:0:0:0:0::/64"],
    ["::", "ip:0:0:0:0::/64"],
    ["fe80::1%lo", "ip:fe80:0:0:0::/64"],
  ])("keys the IPv6 address %s by its /64", (address, key) => {
    expect(clientAddressKey(address)).toBe(key);
  });

  it("counts an embedded IPv4 tail as two groups", () => {
    // ::1:2:3:4.5.6.7 is 0:0:0:1:2:3:405:607, whose /64 is 0:0:0:1.
    expect(clientAddressKey("::1:2:3:4.5.6.7")).toBe("ip:0:0:0:1::/64");
    expect(clientAddressKey("64:ff9b::192.0.2.1")).toBe("ip:64:ff9b:0:0::/64");
  });

  it("keeps something that is not an address as it is, so it still limits alone", () => {
    expect(clientAddressKey("unix-socket")).toBe("ip:unix-socket");
  });
});
