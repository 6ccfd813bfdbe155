import { Code, ConnectError } from "@connectrpc/connect";
import { describe, expect, it } from "vitest";
import { defineTool } from "../../src/registry/define-tool.js";
import { createToolRegistry } from "../../src/registry/tool-registry.js";
import { createCallPipeline, type CallPipeline } from "../../src/runtime/call-pipeline.js";

const caller = { headers: new Headers(), protocol: "test" };

function pipelineWithTool(
  handler: (ms: number, signal: AbortSignal) => Promise<Record<string, unknown>>,
  extra: Record<string, unknown> = {},
  registry = createToolRegistry(),
): CallPipeline {
  registry.register(
    defineTool(
      {
        name: "wait",
        version: "1.0.0",
        description: "waits",
        input: { type: "object", properties: { ms: { type: "integer" } }, required: ["ms"] },
        ...extra,
      },
      (input, ctx) => handler(input.ms as number, ctx.signal),
    ),
  );
  return createCallPipeline({ registry });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("call tracking", () => {
  it("counts calls that share a client request id separately, and drains both", async () => {
    const pipeline = pipelineWithTool(async (ms) => (await sleep(ms), { ms }));
    const signal = new AbortController().signal;
    // Wide margins: the poll below must see both running even on a loaded machine.
    const long = pipeline.call({ name: "wait", arguments: { ms: 1500 }, caller, signal, requestId: "same" });
    const short = pipeline.call({ name: "wait", arguments: { ms: 500 }, caller, signal, requestId: "same" });
    await expect.poll(() => pipeline.inFlight).toBe(2);
    await short;
    expect(pipeline.inFlight).toBe(1);
    let drained = false;
    const drain = pipeline.drain(5_000).then(() => (drained = true));
    await sleep(50);
    expect(drained).toBe(false);
    expect((await long).structuredContent).toEqual({ ms: 1500 });
    await drain;
    expect(pipeline.inFlight).toBe(0);
  });

  it("keeps a concurrency slot until a handler that ignores its signal has really finished", async () => {
    let finished = 0;
    const pipeline = pipelineWithTool(
      async (ms) => {
        await sleep(ms); // ignores the signal on purpose
        finished++;
        return {};
      },
      { maxConcurrency: 1, timeoutMs: 50 },
    );
    const signal = new AbortController().signal;
    const first = await pipeline.call({ name: "wait", arguments: { ms: 300 }, caller, signal }).catch((e: unknown) => ConnectError.from(e));
    expect(first).toBeInstanceOf(ConnectError);
    expect((first as ConnectError).code).toBe(Code.DeadlineExceeded);
    const refused = await pipeline.call({ name: "wait", arguments: { ms: 1 }, caller, signal }).catch((e: unknown) => ConnectError.from(e));
    expect((refused as ConnectError).code).toBe(Code.ResourceExhausted);
    await expect.poll(() => finished, { timeout: 2_000 }).toBe(1);
    const later = await pipeline.call({ name: "wait", arguments: { ms: 1 }, caller, signal });
    expect(later.isError).toBe(false);
  });

  it("keeps counting running calls against maxConcurrency when the tool is replaced or re-deprecated", async () => {
    const registry = createToolRegistry();
    const pipeline = pipelineWithTool(async (ms) => (await sleep(ms), {}), { maxConcurrency: 1 }, registry);
    const signal = new AbortController().signal;
    const running = pipeline.call({ name: "wait", arguments: { ms: 500 }, caller, signal });
    await expect.poll(() => pipeline.inFlight).toBe(1);
    registry.setDeprecated("wait", "1.0.0", true);
    const refused = await pipeline.call({ name: "wait", arguments: { ms: 1 }, caller, signal }).catch((e: unknown) => ConnectError.from(e));
    expect((refused as ConnectError).code).toBe(Code.ResourceExhausted);
    await running;
    await expect(pipeline.call({ name: "wait", arguments: { ms: 1 }, caller, signal })).resolves.toBeDefined();
  });
});
