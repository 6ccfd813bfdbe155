import { describe, expect, it } from "vitest";
import { clampDeadlineHeaders, maxTimerMs } from "../../src/server/deadline-headers.js";

const clamped = (headers: Record<string, string>) => {
  const copy = { ...headers };
  clampDeadlineHeaders(copy);
  return copy;
};

describe("clampDeadlineHeaders", () => {
  it("lowers deadlines past 2^31-1 ms to the longest a timer holds", () => {
    expect(clamped({ "connect-timeout-ms": "2147483648" })).toEqual({ "connect-timeout-ms": String(maxTimerMs) });
    expect(clamped({ "grpc-timeout": "597H" })).toEqual({ "grpc-timeout": "2147483S" });
    expect(clamped({ "grpc-timeout": "99999999M" })).toEqual({ "grpc-timeout": "2147483S" });
  });

  it("keeps deadlines a timer holds, and malformed ones for connect-node to refuse", () => {
    for (const headers of <Record<string, string>[]>[
      { "connect-timeout-ms": "2147483647" },
      { "grpc-timeout": "596H" },
      { "grpc-timeout": "99999999m" },
      { "connect-timeout-ms": "12345678901" },
      { "grpc-timeout": "597h" },
    ]) {
      expect(clamped(headers)).toEqual(headers);
    }
  });
});
