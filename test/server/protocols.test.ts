import { Code, ConnectError } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { echo } from "../../src/tools/echo.js";
import { createTestTools } from "../helpers/test-tools.js";
import { protocolCases, startServer, toolClient, type TestServer } from "../helpers/server.js";

let server: TestServer;
beforeAll(async () => {
  server = await startServer({ tools: [echo, ...createTestTools().tools] });
});
afterAll(() => server.close());

describe.each(protocolCases)("$name", (protocol) => {
  const client = () => toolClient(server.url, protocol.transport(server.url));

  it("lists tools with categories and tags", async () => {
    const res = await client().listTools({ category: "utility" });
    expect(res.tools.map((t) => t.name)).toEqual(["echo"]);
    expect(res.categories).toContain("utility");
    expect(res.categories).toContain("test");
    expect(res.tags).toContain("debug");
  });

  it("describes a tool with its schemas", async () => {
    const { tool } = await client().getTool({ name: "echo" });
    expect(tool?.version).toBe("1.0.0");
    expect(tool?.inputSchema).toMatchObject({ type: "object", required: ["message"] });
    expect(tool?.versions).toEqual(["1.0.0"]);
  });

  it("calls a tool and returns structured and text content", async () => {
    const res = await client().callTool({ name: "echo", arguments: { message: "héllo ✓", uppercase: true } });
    expect(res.isError).toBe(false);
    expect(res.structuredContent).toEqual({ message: "HÉLLO ✓" });
    expect(res.content[0]?.block).toEqual({ case: "text", value: expect.objectContaining({ text: '{"message":"HÉLLO ✓"}' }) });
    expect(res.toolName).toBe("echo");
    expect(res.toolVersion).toBe("1.0.0");
    expect(res.requestId).not.toBe("");
    expect(res.executionTime).toBeDefined();
  });

  it("streams progress, partial content and logs, then exactly one result", async () => {
    const kinds: string[] = [];
    let result: unknown;
    for await (const msg of client().callToolStream({ name: "steps", arguments: { steps: 2 } })) {
      kinds.push(msg.event.case ?? "none");
      if (msg.event.case === "result") result = msg.event.value.structuredContent;
    }
    expect(kinds).toEqual(["log", "progress", "partial", "log", "progress", "partial", "result"]);
    expect(result).toEqual({ steps: 2 });
  });

  it("answers errors with their code and message", async () => {
    const err = await client()
      .callTool({ name: "no_such_tool" })
      .then(() => undefined, (e: unknown) => ConnectError.from(e));
    expect(err?.code).toBe(Code.NotFound);
    expect(err?.rawMessage).toBe('tool "no_such_tool" not found');
  });
});
