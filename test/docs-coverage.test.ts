import { access, readdir, readFile, stat } from "node:fs/promises";
import { dirname, join } from "node:path";
import { describe, expect, it } from "vitest";
import { docBlocks, docPages, docRunners, readDoc, repoRoot, type DocBlock } from "./helpers/readme.js";

// Every page's blocks, and which runner claims each.
const blocks = (await Promise.all(docPages.map((page) => docBlocks(page)))).flat();
const runners = Object.values(docRunners);
const runnable = (b: DocBlock) => ["sh", "bash", "ts"].includes(b.lang);
const where = (b: DocBlock) => `${b.page} (${b.section || "top"}): ${b.code.split("\n")[0] ?? ""}`;

describe("the documentation's examples", () => {
  it("are all run by a test: every sh, bash and ts block is claimed by a runner or marked not-run", () => {
    const unclaimed = blocks.filter((b) => runnable(b) && b.notRun === undefined && !runners.some((r) => r.pages.includes(b.page) && r.runs(b)));
    expect(unclaimed.map(where)).toEqual([]);
  });

  it("mark few blocks as not run, each with a reason", () => {
    const notRun = blocks.filter((b) => b.notRun !== undefined);
    expect(notRun.length).toBeLessThanOrEqual(2);
    for (const block of notRun) expect(block.notRun?.length, where(block)).toBeGreaterThan(10);
  });

  it("are claimed by test files that exist", async () => {
    for (const runner of runners) await expect(access(join(repoRoot, runner.test))).resolves.toBeUndefined();
  });

  it("show files of examples/ exactly as they are there", async () => {
    const shown = blocks.filter((b) => b.file?.startsWith("examples/"));
    expect(shown.length).toBeGreaterThanOrEqual(2);
    for (const block of shown) expect(block.code, where(block)).toBe(await readFile(join(repoRoot, block.file ?? ""), "utf8"));
  });

  it("import the toolwire package in programs for users, not the repository's files", () => {
    // Files saved under src/ or test/ are contributors' files inside this repository.
    const forUsers = blocks.filter((b) => b.lang === "ts" && !/^(src|test)\//.test(b.file ?? ""));
    expect(forUsers.length).toBeGreaterThanOrEqual(5);
    for (const block of forUsers) {
      expect(block.code, where(block)).not.toMatch(/from "\.{0,2}\/?src\//);
      // A tools project's program may use the client its own `toolwire generate` wrote into ./gen/.
      if (block.section === "Tool projects of your own" && /from "\.\/gen\/tools\//.test(block.code)) continue;
      expect(block.code, where(block)).not.toMatch(/from "\.{0,2}\/?gen\//);
      expect(block.code, where(block)).toMatch(/from "toolwire(\/[\w-]+)?"/);
    }
  });

  it("say what each command prints, so that running it can fail", () => {
    const silent = blocks.filter((b) => ["sh", "bash"].includes(b.lang) && b.notRun === undefined && b.expects.length === 0 && !/toolwire serve|npm (install|start)/.test(b.code));
    expect(silent.map(where)).toEqual([]);
  });
});

describe("the documentation's pages", () => {
  it("keep the README under 12 KB", async () => {
    expect((await stat(join(repoRoot, "README.md"))).size).toBeLessThanOrEqual(12 * 1024);
  });

  it("are every page in docs/, each linked from the README", async () => {
    const pages = (await readdir(join(repoRoot, "docs"))).filter((f) => f.endsWith(".md")).map((f) => `docs/${f}`);
    expect([...docPages].filter((p) => p.startsWith("docs/")).sort()).toEqual(pages.sort());
    const readme = await readDoc("README.md");
    for (const page of pages) expect(readme).toContain(`](${page})`);
  });

  it("link only to files and sections that exist", async () => {
    const broken: string[] = [];
    for (const page of docPages) {
      const text = await readDoc(page);
      for (const [, target = ""] of text.matchAll(/\]\(([^)\s]+)\)/g)) {
        if (/^(https?:|mailto:)/.test(target)) continue;
        const [path = "", anchor] = target.split("#");
        const file = path === "" ? page : join(dirname(page), path);
        const exists = await access(join(repoRoot, file)).then(() => true, () => false);
        if (!exists) broken.push(`${page}: ${target}`);
        else if (anchor !== undefined && file.endsWith(".md") && !anchorsOf(await readDoc(file)).has(anchor)) broken.push(`${page}: ${target} (no such section)`);
      }
    }
    expect(broken).toEqual([]);
  });
});

/** GitHub's anchors for a page's headings: lower case, punctuation dropped, spaces as dashes. */
function anchorsOf(markdown: string): Set<string> {
  const headings = [...markdown.replace(/```[\s\S]*?```/g, "").matchAll(/^#{1,6} (.+)$/gm)].map((m) => m[1] ?? "");
  return new Set(headings.map((h) => h.toLowerCase().replace(/[^\p{L}\p{N} _-]/gu, "").replace(/ /g, "-")));
}
