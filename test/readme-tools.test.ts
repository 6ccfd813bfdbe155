import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { copyProject, type ProjectCopy } from "./cli/project-copy.js";
import { createWalkthrough, docRunners, runnerBlocks, writeFileBlocks, type Walkthrough } from "./helpers/readme.js";

// docs/tools.md, Adding a tool: each file saved and each command run in turn, in a copy of the
// repository (the walkthrough changes the project it runs in).
const blocks = await runnerBlocks(docRunners.addingTool);
let copy: ProjectCopy;
let walkthrough: Walkthrough;

beforeAll(async () => {
  copy = await copyProject();
  walkthrough = createWalkthrough(copy.root);
}, 60_000);

afterAll(async () => {
  await walkthrough?.stop();
  await copy?.remove();
});

describe("docs/tools.md, Adding a tool", () => {
  it("saves a manifest, a handler and a test, and runs the compiler and the test", () => {
    expect(blocks.map((b) => b.file ?? b.code.trim())).toEqual([
      "schemas/tools/word_count.json",
      "npx toolwire generate",
      "src/tools/word-count.ts",
      "test/tools/word-count.test.ts",
      "npx vitest run test/tools/word-count.test.ts",
    ]);
  });

  // In order: a file is saved, a command is run and must print what its expect comment says.
  it.each(blocks.map((b) => [b.file ?? b.code.trim(), b] as const))(
    "%s",
    async (_title, block) => {
      if (block.file !== undefined) {
        await writeFileBlocks(copy.root, new Map([[block.file, block.code]]));
        return;
      }
      expect(block.expects[0], "every command says what it prints in an <!-- expect: --> comment").toBeDefined();
      expect(await walkthrough.step(block)).toContain(block.expects[0]);
    },
    90_000,
  );
});
