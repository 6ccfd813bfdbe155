import { Code, ConnectError } from "@connectrpc/connect";
import { describe, expect, it } from "vitest";
import { isTransientFailure, wasNeverSent } from "../../src/client/transient-error.js";

function withCode(message: string, code: string): Error {
  return Object.assign(new Error(message), { code });
}

describe("wasNeverSent", () => {
  it("recognises a refused connection anywhere in the cause chain", () => {
    const refused = new ConnectError("connect ECONNREFUSED 127.0.0.1:9", Code.Unavailable, undefined, undefined, withCode("connect ECONNREFUSED 127.0.0.1:9", "ECONNREFUSED"));
    expect(wasNeverSent(refused)).toBe(true);
  });

  it("recognises an HTTP/2 stream refused unprocessed", () => {
    expect(wasNeverSent(new ConnectError("Stream closed with error code NGHTTP2_REFUSED_STREAM", Code.Internal))).toBe(true);
  });

  it("does not take a broken connection or a server's answer for a call that never left", () => {
    expect(wasNeverSent(new ConnectError("socket hang up", Code.Unavailable, undefined, undefined, withCode("socket hang up", "ECONNRESET")))).toBe(false);
    expect(wasNeverSent(new ConnectError("server is shutting down; retry on another instance", Code.Unavailable))).toBe(false);
    expect(isTransientFailure(new ConnectError("Stream closed with error code NGHTTP2_REFUSED_STREAM", Code.Internal))).toBe(true);
  });
});
