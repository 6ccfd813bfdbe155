import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { copyProject, type ProjectCopy } from "./cli/project-copy.js";
import { createWalkthrough, docRunners, docBlocks, fileBlocks, isServeCommand, runnerBlocks, writeFileBlocks, type Walkthrough } from "./helpers/readme.js";

const run = promisify(execFile);

// docs/cli.md's walkthrough: its config, its server, then every command in order.
const commands = await runnerBlocks(docRunners.cli);
const serve = commands.find((b) => isServeCommand(b.code));
const examples = commands.filter((b) => b !== serve);
const files = fileBlocks(await docBlocks("docs/cli.md"));

// Every example runs in a copy of the project: new-tool changes the project it runs in.
let copy: ProjectCopy;
let walkthrough: Walkthrough;
let url = "";

beforeAll(async () => {
  copy = await copyProject();
  await writeFileBlocks(copy.root, files);
  walkthrough = createWalkthrough(copy.root, { TOOLWIRE_LOG_LEVEL: "warn" });
  await walkthrough.step(serve ?? commands[0]!);
  url = walkthrough.urls().get(8081) ?? "";
}, 60_000);

afterAll(async () => {
  await walkthrough?.stop();
  await copy?.remove();
});

/** The environment of an example: the test's own, minus Toolwire's and the outer vitest's variables. */
function exampleEnv(): NodeJS.ProcessEnv {
  const env = Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith("TOOLWIRE_") && !key.startsWith("VITEST")));
  // The default URL of the CLI, pointed at this test's server through its documented variable.
  return { ...env, NO_COLOR: "1", TOOLWIRE_URL: url };
}

describe("docs/cli.md walkthrough", () => {
  it("starts its server from its own config, and shows list, call, watch and new-tool, each with what it prints", () => {
    expect([...files.keys()]).toEqual(["toolwire-cli.json"]);
    expect(serve?.code.trim()).toBe("npx toolwire serve --config toolwire-cli.json");
    for (const command of ["list", "call", "watch", "new-tool"]) {
      expect(examples.some((e) => e.code.startsWith(`npx toolwire ${command} `))).toBe(true);
    }
    for (const example of examples) expect(example.expects.length, example.code).toBeGreaterThan(0);
  });

  // In order: watch replays the calls made above it, vitest runs the test new-tool wrote.
  it.each(examples.map((e) => [e.code.split("\n")[0] ?? "", e] as const))(
    "runs `%s` as written",
    async (_title, example) => {
      // stdout and stderr together, in order: the examples show both.
      const { stdout } = await run("bash", ["-c", `{ ${example.code.trim()}\n} 2>&1`], {
        cwd: copy.root,
        env: exampleEnv(),
        timeout: 60_000,
      }).catch((err: { stdout?: string; message: string }) => ({ stdout: `${err.stdout ?? ""}\n(failed: ${err.message})` }));
      const output = stdout.replace(/\x1b\[[\d;]*m/g, "");
      for (const text of example.expects) expect(output).toContain(text);
    },
    90_000,
  );
});
