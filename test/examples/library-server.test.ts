import { mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { Client, StreamableHTTPClientTransport } from "@modelcontextprotocol/client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { repoRoot, resolveToolwireImports, startReadmeServer, type ReadmeServer } from "../helpers/readme.js";

// examples/library-server/server.ts as a user runs it (`npx tsx server.ts`), its "toolwire"
// imports pointed at this repository's sources and its port at a free one.
const dir = join(repoRoot, "test/.tmp", `library-server-${process.pid}`);
const source = await readFile(join(repoRoot, "examples/library-server/server.ts"), "utf8");
let server: ReadmeServer;

beforeAll(async () => {
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, "server.ts"), resolveToolwireImports(source, dir).replace("port: 8081", "port: 0"));
  server = await startReadmeServer("npx tsx server.ts", dir, {});
}, 60_000);

afterAll(async () => {
  await server?.stop();
  await rm(dir, { recursive: true, force: true });
});

describe("examples/library-server", () => {
  it("imports the toolwire package and listens on 8081", () => {
    expect(source).toContain('from "toolwire"');
    expect(source).toContain("port: 8081");
  });

  it("serves its tool over Connect", async () => {
    const res = await fetch(`${server.url}/toolwire.v1.ToolService/CallTool`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ name: "word_count", arguments: { text: "one two  three" } }),
    });
    expect(await res.json()).toMatchObject({ structuredContent: { words: 3 }, toolName: "word_count" });
  });

  it("serves its tool over MCP at /mcp", async () => {
    const client = new Client({ name: "example-test", version: "1.0.0" });
    await client.connect(new StreamableHTTPClientTransport(new URL(`${server.url}/mcp`)));
    try {
      // Its own tool beside the built-in ones, as toolwire serve would list them.
      const names = (await client.listTools()).tools.map((t) => t.name);
      expect(names).toContain("word_count");
      expect(names).toContain("echo");
      const result = await client.callTool({ name: "word_count", arguments: { text: "a b" } });
      expect(result.structuredContent).toEqual({ words: 2 });
    } finally {
      await client.close();
    }
  });
});
