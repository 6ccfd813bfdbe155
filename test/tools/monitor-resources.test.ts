import { setTimeout as sleep } from "node:timers/promises";
import { describe, expect, it } from "vitest";
import { monitorResources } from "../../src/tools/monitor-resources.js";
import { settlesWithoutWaiting } from "../helpers/promises.js";
import { runTool } from "../helpers/run-tool.js";
import { createTestContext } from "../helpers/tool-context.js";
import { inputValidator, outputValidator } from "../helpers/tool-schemas.js";

const validateInput = inputValidator(monitorResources);
const validateOutput = outputValidator(monitorResources);

function activeTimeouts(): number {
  return process.getActiveResourcesInfo().filter((r) => r === "Timeout").length;
}

describe("monitor_resources", () => {
  it("takes one sample per interval and streams each one", async () => {
    const ctx = createTestContext();
    const started = performance.now();
    const summary = await runTool(monitorResources, { duration: 1, interval: 0.2 }, ctx);

    expect(validateOutput(summary).message).toBe("");
    expect(summary.samples).toBe(5);
    expect(summary.interval).toBe(0.2);
    expect(summary.samplesData).toHaveLength(5);
    // Sampling is paced by the clock, not run back to back: sample n comes n intervals in or later
    // (less a few ms: a timer may fire a millisecond before performance.now() says it is due).
    ctx.progressEvents.forEach((e, i) => expect(e.at - started).toBeGreaterThanOrEqual((i + 1) * 200 - 10));
    expect(summary.durationSeconds).toBeGreaterThanOrEqual(0.95);

    expect(ctx.progressEvents.map((e) => [e.done, e.total])).toEqual([[1, 5], [2, 5], [3, 5], [4, 5], [5, 5]]);
    expect(ctx.partials).toHaveLength(5);
    const streamed = ctx.partials.map((blocks) => {
      expect(blocks).toHaveLength(1);
      const block = blocks[0];
      if (block?.type !== "text") throw new Error("expected a text block");
      return JSON.parse(block.text) as unknown;
    });
    expect(streamed).toEqual(summary.samplesData);
  });

  it("reports averages no higher than the peaks", async () => {
    const summary = await runTool(monitorResources, { duration: 1, interval: 0.25 });
    const samples = summary.samplesData ?? [];
    expect(samples.map((s) => s.index)).toEqual([1, 2, 3, 4]);
    expect(summary.average.cpuPercent).toBeLessThanOrEqual(summary.peak.cpuPercent);
    expect(summary.average.memoryPercent).toBeLessThanOrEqual(summary.peak.memoryPercent);
    expect(summary.peak.cpuPercent).toBe(Math.max(...samples.map((s) => s.cpuPercent)));
    for (const s of samples) {
      expect(s.memoryPercent).toBeGreaterThan(0);
      expect(s.loadAverage).toHaveLength(3);
    }
  });

  it("caps the interval at the duration", async () => {
    const summary = await runTool(monitorResources, { duration: 1, interval: 5 });
    expect(summary.samples).toBe(1);
    expect(summary.interval).toBe(1);
  });

  it("stops at once when aborted, leaving no timer behind", async () => {
    const ctx = createTestContext();
    const timersBefore = activeTimeouts();
    const call = runTool(monitorResources, { duration: 30, interval: 0.1 }, ctx);
    const outcome = call.then(
      () => "resolved",
      (err: unknown) => err,
    );
    while (ctx.progressEvents.length < 2) await sleep(20);
    const reason = new Error("client went away");
    ctx.controller.abort(reason);
    expect(await settlesWithoutWaiting(outcome)).toBe(true);
    expect(await outcome).toBe(reason);
    expect(activeTimeouts()).toBeLessThanOrEqual(timersBefore);

    const reported = ctx.progressEvents.length;
    await sleep(300);
    expect(ctx.progressEvents).toHaveLength(reported);
    expect(ctx.partials).toHaveLength(reported);
  });

  it("does not start when already aborted", async () => {
    const ctx = createTestContext();
    ctx.controller.abort(new Error("cancelled"));
    await expect(runTool(monitorResources, { duration: 1, interval: 0.1 }, ctx)).rejects.toThrow("cancelled");
    expect(ctx.progressEvents).toHaveLength(0);
  });

  describe("input schema", () => {
    it("fills in the defaults", () => {
      const result = validateInput({});
      expect(result.valid).toBe(true);
      expect(result.value).toEqual({ duration: 5, interval: 1 });
    });

    it("rejects a duration or interval out of range", () => {
      expect(validateInput({ duration: 61 }).message).toBe("/duration: must be <= 60");
      expect(validateInput({ duration: 0.5 }).message).toBe("/duration: must be >= 1");
      expect(validateInput({ interval: 0.05 }).message).toBe("/interval: must be >= 0.1");
      expect(validateInput({ interval: 11 }).message).toBe("/interval: must be <= 10");
      expect(validateInput({ duration: "5" }).message).toBe("/duration: must be number");
    });
  });
});
