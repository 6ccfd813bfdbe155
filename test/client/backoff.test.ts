import { Code, ConnectError } from "@connectrpc/connect";
import { describe, expect, it } from "vitest";
import { backoffDelay, sleep } from "../../src/client/index.js";
import { rejection } from "./client-fixtures.js";

describe("backoffDelay", () => {
  it("doubles from the initial delay up to the cap when there is no jitter", () => {
    const delays = [0, 1, 2, 3, 4, 5, 6].map((n) => backoffDelay(n, { initialDelayMs: 100, maxDelayMs: 1_000, jitter: 0 }));
    expect(delays).toEqual([100, 200, 400, 800, 1_000, 1_000, 1_000]);
  });

  it("takes up to the jitter share off each delay, never more", () => {
    const options = { initialDelayMs: 1_000, maxDelayMs: 1_000, jitter: 0.5 };
    expect(backoffDelay(0, options, () => 0)).toBe(1_000);
    expect(backoffDelay(0, options, () => 0.999_999)).toBe(500);
    expect(backoffDelay(0, options, () => 0.5)).toBe(750);
  });
});

describe("sleep", () => {
  it("rejects with the abort reason as soon as the signal aborts", async () => {
    const controller = new AbortController();
    const pending = sleep(60_000, controller.signal).catch((e: unknown) => e);
    controller.abort(new ConnectError("stop", Code.DeadlineExceeded));
    const err = await pending;
    expect(err).toBeInstanceOf(ConnectError);
    expect((err as ConnectError).code).toBe(Code.DeadlineExceeded);
  });

  it("rejects at once on a signal that has already aborted", async () => {
    const err = await rejection(sleep(60_000, AbortSignal.abort()));
    expect(err.code).toBe(Code.Canceled);
  });
});
