import { mkdir, readFile, rm } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createWalkthrough, docRunners, fileBlocks, isServeCommand, repoRoot, runnerBlocks, writeFileBlocks, type Walkthrough } from "./helpers/readme.js";

// docs/security.md is one walkthrough: its files, then its commands in order, in an empty folder.
const blocks = await runnerBlocks(docRunners.security);
const commands = blocks.filter((b) => b.lang === "bash");
const files = fileBlocks(blocks);

// Inside the repository, so that `require("jose")` resolves as in a project that depends on toolwire.
const dir = join(repoRoot, "test", ".tmp", `readme-security-${process.pid}`);
let walkthrough: Walkthrough;

beforeAll(async () => {
  await mkdir(dir, { recursive: true });
  await writeFileBlocks(dir, files);
  walkthrough = createWalkthrough(dir);
});

afterAll(async () => {
  await walkthrough?.stop();
  await rm(dir, { recursive: true, force: true });
});

describe("docs/security.md walkthrough", () => {
  it("has its configs, creates its secret, and shows each denial and the rate limit", () => {
    expect([...files.keys()].sort()).toEqual(["toolwire-ratelimit.json", "toolwire-security.json"]);
    expect(commands[0]?.code).toContain("hash-key");
    expect(commands.some((c) => c.code.includes("openssl rand") && c.code.includes(".gitignore"))).toBe(true);
    expect(commands.filter((c) => isServeCommand(c.code)).map((c) => c.code.trim())).toEqual([
      "npx toolwire serve --config toolwire-security.json",
      "npx toolwire serve --config toolwire-ratelimit.json --port 8083",
    ]);
    for (const code of ["unauthenticated", "not_found", "429"]) {
      expect(commands.some((c) => c.expects[0]?.includes(code)), code).toBe(true);
    }
  });

  // In order: the secret before the server that reads it, each server before the calls to it.
  it.each(commands.map((c) => [c.code.split("\n")[0] ?? "", c] as const))(
    "runs `%s` as written",
    async (_title, block) => {
      const output = await walkthrough.step(block);
      if (isServeCommand(block.code)) expect(output).toContain("toolwire listening on");
      else {
        expect(block.expects[0], "every example says what it prints in an <!-- expect: --> comment").toBeDefined();
        expect(output).toContain(block.expects[0]);
      }
    },
    60_000,
  );

  it("left the secret out of version control", async () => {
    expect(await readFile(join(dir, ".gitignore"), "utf8")).toBe("jwt-secret.txt\n");
  });
});
