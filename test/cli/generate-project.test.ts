import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { runTsc } from "../client/run-tsc.js";
import { createConsumerProject, type ConsumerProject } from "../helpers/consumer-project.js";
import { killLeftoverProcesses, runCli } from "./cli-process.js";

afterEach(killLeftoverProcesses);

const wordCount = {
  name: "word_count",
  version: "1.0.0",
  description: "Counts the words of a text.",
  input: {
    type: "object",
    additionalProperties: false,
    required: ["text"],
    properties: { text: { type: "string", description: "The text to count." } },
  },
  output: {
    type: "object",
    additionalProperties: false,
    required: ["words"],
    properties: { words: { type: "integer" } },
  },
};

// What the project's own code does with the generated client; tsc must accept it as written.
const caller = `import { createClient, wordCountTool, type ToolMap, type WordCountInput } from "./gen/tools/index.js";

const client = createClient("http://127.0.0.1:1", { apiKey: "key" });

export async function count(text: string): Promise<number> {
  const input: WordCountInput = { text };
  const { words } = await client.tools.word_count(input);
  const checked: number = words;
  // @ts-expect-error -- the manifest says text is a string
  await client.tools.word_count({ text: 42 });
  // @ts-expect-error -- the manifest allows no other properties
  await client.tools.word_count({ text, language: "en" });
  // @ts-expect-error -- no tool of that name in schemas/tools/
  await client.tools.char_count({ text });
  await client.callTool("word_count", { text });
  return checked;
}

export const name: keyof ToolMap = wordCountTool.manifest.name as "word_count";
`;

// One wrong call without a directive: tsc must report it, so a check that passes is a real one.
const wrongCall = `import { createClient } from "./gen/tools/index.js";

await createClient("http://127.0.0.1:1").tools.word_count({ text: 42 });
`;

let project: ConsumerProject;

beforeAll(async () => {
  project = await createConsumerProject("word-tools");
  await project.write("schemas/tools/word_count.json", JSON.stringify(wordCount, null, 2));
  await project.write("caller.ts", caller);
  await project.write("wrong-call.ts", wrongCall);
});

afterAll(() => project.remove());

describe("toolwire generate in a project that depends on toolwire", () => {
  it("writes typed descriptors and a client that import only the toolwire package", async () => {
    const result = await runCli(["generate", "--root", project.root]);
    expect(result.stderr).toBe("");
    expect(result.stdout).toBe("toolwire generate: 1 tools, 2 files\n");
    expect(result.code).toBe(0);
    expect(await readdir(join(project.root, "gen"))).toEqual(["tools"]);
    expect((await readdir(join(project.root, "gen/tools"))).sort()).toEqual(["index.ts", "word_count.ts"]);
    for (const file of ["index.ts", "word_count.ts"]) {
      const code = await readFile(join(project.root, "gen/tools", file), "utf8");
      const specifiers = [...code.matchAll(/ from "([^"]+)"/g)].map((m) => m[1]);
      expect(specifiers.filter((s) => s !== "toolwire" && !s?.startsWith("./")), file).toEqual([]);
    }
  });

  it("generates code that tsc accepts in the project, and that rejects a wrong argument", async () => {
    const diagnostics = await runTsc(join(project.root, "tsconfig.json"));
    // Every @ts-expect-error in caller.ts was needed (an unneeded one is TS2578), nothing else
    // failed, and the one wrong call without a directive was caught.
    expect(diagnostics.map((d) => [d.file.slice(d.file.lastIndexOf("/") + 1), d.line, d.code])).toEqual([["wrong-call.ts", 3, "TS2322"]]);
  }, 120_000);

  it("takes the current directory as the project root", async () => {
    await project.write("schemas/tools/word_count.json", JSON.stringify({ ...wordCount, version: "1.1.0" }, null, 2));
    const result = await runCli(["generate"], { cwd: project.root });
    expect(result.code).toBe(0);
    expect(await readFile(join(project.root, "gen/tools/word_count.ts"), "utf8")).toContain("(version 1.1.0)");
  });

  it("says what to create when the project has no schemas/tools/", async () => {
    const empty = await createConsumerProject("empty");
    try {
      const result = await runCli(["generate"], { cwd: empty.root });
      expect(result.code).toBe(1);
      expect(result.stderr).toContain(`toolwire generate: no schemas/tools/ folder in ${empty.root}: create it`);
      expect(result.stderr).not.toContain("ENOENT");
    } finally {
      await empty.remove();
    }
  });

});
