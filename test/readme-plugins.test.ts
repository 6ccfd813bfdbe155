import { mkdir, rm } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bashExamples, fileBlocks, readmeSection, repoRoot, runExample, startReadmeServer, writeFileBlocks, type ReadmeServer } from "./helpers/readme.js";

const section = await readmeSection("Writing a plugin");
const examples = bashExamples(section);
const serveExample = examples.find((e) => e.command.includes("toolwire serve"));
const files = fileBlocks(section);

// Inside the repository, so that `import ... from "toolwire"` resolves as in a user's project.
const dir = join(repoRoot, "test", ".tmp", `readme-plugins-${process.pid}`);
let server: ReadmeServer;

beforeAll(async () => {
  await mkdir(dir, { recursive: true });
  await writeFileBlocks(dir, files);
  server = await startReadmeServer(serveExample?.command ?? "false", dir, {});
}, 60_000);

afterAll(async () => {
  await server?.stop();
  await rm(dir, { recursive: true, force: true });
});

describe("README Writing a plugin section", () => {
  it("shows a module plugin, a manifest with its handler, and a config", () => {
    expect([...files.keys()].sort()).toEqual(["plugins/greet.ts", "plugins/shout.mjs", "plugins/shout.tool.json", "toolwire.json"]);
    expect(serveExample?.command).toContain("--watch");
  });

  it("loads every plugin without failures", () => {
    expect(server.output()).not.toContain("plugin failed");
    expect(server.output()).not.toMatch(/toolwire serve: plugin /);
  });

  // In order: the hot-reload example edits greet.ts, later ones see the edit.
  it.each(examples.filter((e) => e !== serveExample).map((e) => [e.command.split("\n")[0] ?? "", e] as const))(
    "runs `%s` as written",
    async (_title, example) => {
      expect(example.expect, "every example says what it prints in an <!-- expect: --> comment").toBeDefined();
      expect(await runExample(example, server.url, dir)).toContain(example.expect);
    },
  );
});
