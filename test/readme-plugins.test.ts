import { mkdir, rm } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createWalkthrough, docRunners, fileBlocks, isServeCommand, repoRoot, runnerBlocks, writeFileBlocks, type Walkthrough } from "./helpers/readme.js";

const blocks = await runnerBlocks(docRunners.plugins);
const commands = blocks.filter((b) => b.lang === "bash");
const serve = commands.find((b) => isServeCommand(b.code));
const files = fileBlocks(blocks);

// Inside the repository, so that `import ... from "toolwire"` resolves as in a user's project.
const dir = join(repoRoot, "test", ".tmp", `readme-plugins-${process.pid}`);
let walkthrough: Walkthrough;
let serverOutput = "";

beforeAll(async () => {
  await mkdir(dir, { recursive: true });
  await writeFileBlocks(dir, files);
  walkthrough = createWalkthrough(dir);
  serverOutput = await walkthrough.step(serve ?? blocks[0]!);
}, 60_000);

afterAll(async () => {
  await walkthrough?.stop();
  await rm(dir, { recursive: true, force: true });
});

describe("docs/tools.md, Writing a plugin", () => {
  it("shows a module plugin, a manifest with its handler, and a config", () => {
    expect([...files.keys()].sort()).toEqual(["plugins/greet.ts", "plugins/shout.mjs", "plugins/shout.tool.json", "toolwire-plugins.json"]);
    expect(serve?.code).toContain("--watch");
  });

  it("loads every plugin without failures", () => {
    expect(serverOutput).toContain("toolwire listening on");
    expect(serverOutput).not.toContain("plugin failed");
    expect(serverOutput).not.toMatch(/toolwire serve: plugin /);
  });

  // In order: the hot-reload example edits greet.ts, later ones see the edit.
  it.each(commands.filter((b) => b !== serve).map((b) => [b.code.split("\n")[0] ?? "", b] as const))("runs `%s` as written", async (_title, block) => {
    expect(block.expects[0], "every example says what it prints in an <!-- expect: --> comment").toBeDefined();
    expect(await walkthrough.step(block)).toContain(block.expects[0]);
  });
});
