import { execFile } from "node:child_process";
import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { killLeftoverProcesses, runCli, spawnCli } from "./cli-process.js";
import { copyProject, type ProjectCopy } from "./project-copy.js";

const exec = promisify(execFile);
afterEach(killLeftoverProcesses);

/** An environment for tools run inside the copy: none of the outer vitest's or Toolwire's variables. */
function cleanEnv(): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith("VITEST") && !key.startsWith("TOOLWIRE_")));
}

/** Runs a node script of the copy's dependencies there; resolves with its exit code and output. */
async function runIn(root: string, script: string, args: string[]): Promise<{ code: number; output: string }> {
  try {
    const { stdout, stderr } = await exec(process.execPath, [join(root, "node_modules", script), ...args], { cwd: root, env: cleanEnv(), timeout: 120_000 });
    return { code: 0, output: stdout + stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === "number" ? e.code : -1, output: `${e.stdout ?? ""}${e.stderr ?? ""}` };
  }
}

/** What a scaffold could have touched: the files under these folders and the tool index. */
async function snapshot(root: string): Promise<Record<string, string[] | string>> {
  const out: Record<string, string[] | string> = {};
  for (const dir of ["schemas/tools", "src/tools", "gen/tools"]) out[dir] = (await readdir(join(root, dir))).sort();
  out["test/tools"] = await readdir(join(root, "test/tools")).catch(() => []);
  out.index = await readFile(join(root, "src/tools/index.ts"), "utf8");
  out.genIndex = await readFile(join(root, "gen/tools/index.ts"), "utf8");
  return out;
}

describe("toolwire new-tool, end to end in a copy of the project", () => {
  let copy: ProjectCopy;
  beforeAll(async () => {
    copy = await copyProject();
  });
  afterAll(() => copy?.remove());

  it(
    "scaffolds a tool whose test passes at once, that type-checks, and that the server serves",
    async () => {
      const made = await runCli(["new-tool", "word_count", "--description", "Counts the words in a text.", "--category", "text"], {
        root: copy.root,
        cwd: copy.root,
      });
      expect(made.stderr).toBe("");
      expect(made.code).toBe(0);
      expect(made.stdout).toContain("created   schemas/tools/word_count.json\ncreated   src/tools/word-count.ts\ncreated   test/tools/word-count.test.ts\n");
      expect(made.stdout).toContain("updated   src/tools/index.ts (added to builtinTools)\ngenerated gen/tools/word_count.ts (8 tools compiled)\n");

      const manifest = JSON.parse(await readFile(join(copy.root, "schemas/tools/word_count.json"), "utf8")) as Record<string, unknown>;
      expect(manifest).toMatchObject({ name: "word_count", version: "1.0.0", description: "Counts the words in a text.", category: "text", securityLevel: "public" });
      expect(manifest.input).toMatchObject({ type: "object", required: ["text"], properties: { text: { type: "string" } } });
      expect(manifest.output).toMatchObject({ type: "object" });
      expect(await readFile(join(copy.root, "gen/tools/word_count.ts"), "utf8")).toContain("export const wordCountTool: ToolDescriptor<WordCountInput, WordCountOutput>");
      const index = await readFile(join(copy.root, "src/tools/index.ts"), "utf8");
      expect(index).toContain(`import { wordCount } from "./word-count.js";`);
      expect(index).toMatch(/\[calculator, [\w, ]*systemInfo, wordCount\]\.sort\(/);

      // The scaffolded test passes as written.
      const tested = await runIn(copy.root, "vitest/vitest.mjs", ["run", "test/tools/word-count.test.ts"]);
      expect(tested.output.replace(/\x1b\[[\d;]*m/g, "")).toMatch(/Tests\s+2 passed \(2\)/);
      expect(tested.code, tested.output).toBe(0);

      // The new files type-check with the project's strict settings.
      await writeFile(
        join(copy.root, "tsconfig.new-tool.json"),
        JSON.stringify({ extends: "./tsconfig.json", include: ["src/tools/index.ts", "src/tools/word-count.ts", "test/tools/word-count.test.ts", "gen/tools/*.ts"] }),
      );
      const typed = await runIn(copy.root, "typescript/bin/tsc", ["--noEmit", "-p", "tsconfig.new-tool.json"]);
      expect(typed.code, typed.output).toBe(0);

      // `toolwire serve` in the copy serves it; `list` and `call` reach it.
      const serve = spawnCli(["serve", "--port", "0", "--log-level", "warn"], { root: copy.root, cwd: copy.root });
      await expect.poll(() => serve.output().stdout, { timeout: 20_000 }).toMatch(/listening on \S+ \(8 tools\)/);
      const url = /listening on (\S+)/.exec(serve.output().stdout)?.[1] ?? "";
      const env = { TOOLWIRE_URL: url };
      const listed = await runCli(["list", "--category", "text"], { root: copy.root, env });
      expect(listed.stdout).toMatch(/^word_count +1\.0\.0 +public +text +Counts the words in a text\.$/m);
      const called = await runCli(["call", "word_count", "text=hello world"], { root: copy.root, env });
      expect(called.code).toBe(0);
      expect(JSON.parse(called.stdout)).toEqual({ text: "hello world", length: 11 });
      serve.child.kill("SIGTERM");
      expect((await serve.exited).code).toBe(0);
    },
    240_000,
  );
});

describe("toolwire new-tool refusals", () => {
  let copy: ProjectCopy;
  beforeAll(async () => {
    copy = await copyProject();
  });
  afterAll(() => copy?.remove());
  const newTool = (args: string[]) => runCli(["new-tool", ...args, "--root", copy.root], { root: copy.root, cwd: tmpdir() });

  it.each([
    ["bad name", "is not a valid tool name"],
    ["", "is not a valid tool name"],
    ["x".repeat(129), "is not a valid tool name"],
    ["_.-", "needs at least one letter or digit"],
    ["delete", `a reserved word`],
    ["echo", `tool "echo" already exists (schemas/tools/echo.json)`],
    ["Echo", `tool "echo" already exists and differs from "Echo" only in case`],
    ["monitor.resources", `the existing tool "monitor_resources" would both generate monitorResourcesTool`],
    ["builtin-tools", "src/tools/index.ts already has something named builtinTools"],
  ])("refuses the name %j with exit 2 and writes nothing", async (name, reason) => {
    const before = await snapshot(copy.root);
    const { code, stdout, stderr } = await newTool([name]);
    expect(code).toBe(2);
    expect(stdout).toBe("");
    expect(stderr).toContain(reason);
    expect(stderr.trimEnd().split("\n")).toHaveLength(1);
    expect(await snapshot(copy.root)).toEqual(before);
  });

  it("refuses a folder that is not a project root, and a category the manifest rule forbids", async () => {
    const empty = await mkdtemp(join(tmpdir(), "toolwire-not-a-project-"));
    try {
      const { code, stderr } = await runCli(["new-tool", "fine_name", "--root", empty]);
      expect(code).toBe(2);
      expect(stderr).toBe(
        `toolwire new-tool: ${empty} is not a tools project: it has no toolwire.json and schemas/tools/ (make one with \`toolwire init <dir>\`, or use --root)\n`,
      );
    } finally {
      await rm(empty, { recursive: true, force: true });
    }
    const before = await snapshot(copy.root);
    const category = await newTool(["fine_name", "--category", "two words"]);
    expect(category.code).toBe(2);
    expect(category.stderr).toContain('invalid tool manifest schemas/tools/fine_name.json: /category: must match pattern');
    expect(await snapshot(copy.root)).toEqual(before);
  });

  it("puts everything back and exits 1 when the manifest compiler fails", async () => {
    const broken = join(copy.root, "schemas/tools/broken.json");
    await writeFile(broken, "{ not json");
    try {
      const before = await snapshot(copy.root);
      const { code, stdout, stderr } = await newTool(["rolled_back"]);
      expect(code).toBe(1);
      expect(stdout).toBe("");
      expect(stderr).toMatch(/^toolwire new-tool: invalid tool manifest schemas\/tools\/broken\.json: not JSON: .* \(nothing was left changed\)\n$/);
      expect(await snapshot(copy.root)).toEqual(before);
    } finally {
      await rm(broken);
    }
  });

  it("prints what was written as JSON with --json", async () => {
    const { code, stdout } = await newTool(["json_report", "--level", "authenticated", "--json"]);
    expect(code).toBe(0);
    expect(JSON.parse(stdout)).toEqual({
      tool: "json_report",
      created: ["schemas/tools/json_report.json", "src/tools/json-report.ts", "test/tools/json-report.test.ts"],
      updated: ["src/tools/index.ts"],
      generated: "gen/tools/json_report.ts",
      notes: [],
    });
    expect(JSON.parse(await readFile(join(copy.root, "schemas/tools/json_report.json"), "utf8")).securityLevel).toBe("authenticated");
  });

  it("leaves an index it does not recognise alone and prints what to add", async () => {
    const indexPath = join(copy.root, "src/tools/index.ts");
    const odd = "// Tools are listed elsewhere in this project.\nexport const builtinTools = [];\n";
    await writeFile(indexPath, odd);
    const { code, stdout, stderr } = await newTool(["odd_index"]);
    expect(code).toBe(0);
    expect(stdout).toContain("generated gen/tools/odd_index.ts");
    expect(stderr).toContain("note: src/tools/index.ts does not have the expected shape; register the tool by hand:");
    expect(stderr).toContain(`import { oddIndex } from "./odd-index.js";`);
    expect(await readFile(indexPath, "utf8")).toBe(odd);
  });
});
