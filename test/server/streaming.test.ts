import { Code, ConnectError } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport } from "@connectrpc/connect-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startServer, toolClient, type TestServer } from "../helpers/server.js";
import { createTestTools, type ToolProbe } from "../helpers/test-tools.js";

let server: TestServer;
let probe: ToolProbe;
beforeAll(async () => {
  const test = createTestTools();
  probe = test.probe;
  server = await startServer({ tools: test.tools });
});
afterAll(() => server.close());

const transports = {
  "connect over HTTP/1.1": (url: string) => createConnectTransport({ baseUrl: url, httpVersion: "1.1" }),
  "gRPC over HTTP/2": (url: string) => createGrpcTransport({ baseUrl: url }),
};

describe.each(Object.entries(transports))("CallToolStream, %s", (_name, transport) => {
  it("ends with exactly one result after every progress message, in order", async () => {
    const client = toolClient(server.url, transport(server.url));
    const progress: number[] = [];
    const results: unknown[] = [];
    for await (const msg of client.callToolStream({ name: "steps", arguments: { steps: 5 } })) {
      if (results.length > 0) throw new Error("a message came after the result");
      if (msg.event.case === "progress") progress.push(msg.event.value.done);
      if (msg.event.case === "result") results.push(msg.event.value.structuredContent);
    }
    expect(progress).toEqual([1, 2, 3, 4, 5]);
    expect(results).toEqual([{ steps: 5 }]);
  });

  it("aborts the handler when the client cancels, and leaks nothing over many cancels", async () => {
    const timers = () => process.getActiveResourcesInfo().filter((r) => r === "Timeout").length;
    const timersBefore = timers();
    {
      const client = toolClient(server.url, transport(server.url));
      for (let i = 0; i < 20; i++) {
        const controller = new AbortController();
        const before = probe.signals.length;
        const stream = client.callToolStream({ name: "steps", arguments: { steps: 10_000 } }, { signal: controller.signal });
        let error: ConnectError | undefined;
        try {
          for await (const msg of stream) {
            if (msg.event.case === "progress") controller.abort();
          }
        } catch (err) {
          error = ConnectError.from(err);
        }
        expect(error?.code).toBe(Code.Canceled);
        const signal = await probe.started(before + 1);
        await expect.poll(() => signal.aborted).toBe(true);
      }
      await expect.poll(() => server.server.pipeline.inFlight).toBe(0);
      // Every cancelled handler stopped: none is still sleeping between its steps.
      await expect.poll(timers).toBeLessThanOrEqual(timersBefore);
    }
  });
});

describe("CallToolStream errors", () => {
  it("answers a pipeline error as the stream's error with no messages", async () => {
    const client = toolClient(server.url);
    const received: unknown[] = [];
    let error: ConnectError | undefined;
    try {
      for await (const msg of client.callToolStream({ name: "steps", arguments: { steps: "many" } })) received.push(msg);
    } catch (err) {
      error = ConnectError.from(err);
    }
    expect(received).toEqual([]);
    expect(error?.code).toBe(Code.InvalidArgument);
    expect(error?.rawMessage).toBe('invalid arguments for tool "steps": /steps: must be integer');
  });
});
