import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { docBlocksOf, exampleOf, repoRoot, runExample, startReadmeServer, type ReadmeServer } from "../helpers/readme.js";

// examples/plugin-dir/README.md's two commands, run as written from the repository root.
const page = "examples/plugin-dir/README.md";
const [serve, call] = docBlocksOf(page, await readFile(join(repoRoot, page), "utf8")).filter((b) => b.lang === "sh");
let server: ReadmeServer;

beforeAll(async () => {
  server = await startReadmeServer(serve?.code.trim() ?? "false", repoRoot, {});
}, 60_000);
afterAll(() => server?.stop());

describe("examples/plugin-dir", () => {
  it("is served by toolwire serve --plugins, without plugin failures", () => {
    expect(serve?.code.trim()).toBe("npx toolwire serve --plugins examples/plugin-dir");
    expect(server.output()).toContain("toolwire listening on");
    expect(server.output()).not.toMatch(/plugin (failed|.*error)/i);
  });

  it("answers the call its README shows with the slug it promises", async () => {
    expect(await runExample(exampleOf(call!), server.url, repoRoot)).toContain('"structuredContent":{"slug":"hello-world-a-title"}');
  });

  it("refuses input its manifest does not allow, before the handler runs", async () => {
    const res = await fetch(`${server.url}/toolwire.v1.ToolService/CallTool`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ name: "slugify", arguments: { text: "x", maxLength: 0 } }),
    });
    expect(res.status).toBe(400);
    expect(await res.text()).toContain("/maxLength");
  });
});
