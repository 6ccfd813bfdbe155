import { createConnectTransport } from "@connectrpc/connect-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTools } from "../../gen/tools/index.js";
import { ToolCallError } from "../../src/client/index.js";
import { builtinTools } from "../../src/tools/index.js";
import { startServer, type TestServer } from "../helpers/server.js";

let server: TestServer;
beforeAll(async () => {
  server = await startServer({ tools: builtinTools });
});
afterAll(() => server.close());

describe("generated typed tool client", () => {
  it("calls a tool by name and resolves to its structured output", async () => {
    const tools = createTools(createConnectTransport({ baseUrl: server.url, httpVersion: "2" }));
    const sum = await tools.calculator({ operation: "multiply", a: 6, b: 7 });
    expect(sum.result).toBe(42);
  });

  it("rejects with ToolCallError when the tool reports an error", async () => {
    const tools = createTools(createConnectTransport({ baseUrl: server.url, httpVersion: "1.1" }));
    const err = await tools.calculator({ operation: "divide", a: 1, b: 0 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ToolCallError);
    expect((err as ToolCallError).message).toMatch(/zero/i);
    expect((err as ToolCallError).result.isError).toBe(true);
  });

  it("is a plain object of the generated tools, safe to return from an async function", async () => {
    const make = async () => createTools(createConnectTransport({ baseUrl: server.url, httpVersion: "1.1" }));
    const tools = await make();
    expect(Object.keys(tools).sort()).toEqual(builtinTools.map((t) => t.descriptor.manifest.name).sort());
    expect("then" in tools).toBe(false);
  });
});
