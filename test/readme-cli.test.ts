import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { hashApiKey } from "../src/security/index.js";
import { startCliServer, type CliTestServer } from "./cli/cli-process.js";
import { copyProject, type ProjectCopy } from "./cli/project-copy.js";
import { fencedBlocks, readmeSection } from "./helpers/readme.js";

const run = promisify(execFile);

/** One example of the CLI reference: the commands and every text its output must contain. */
interface CliExample {
  readonly command: string;
  readonly expects: readonly string[];
}

/**
 * The section's ```bash blocks, each with the `<!-- expect: … -->` comments that follow it (one or
 * more; all must appear in the output). Other fences (plain ``` output samples) are not run.
 */
function cliExamples(section: string): CliExample[] {
  return fencedBlocks(section, "bash").map((b) => ({ command: b.code.trim(), expects: b.expects }));
}

const section = await readmeSection("CLI reference");
const examples = cliExamples(section);

// The server the section describes: the Security section's example key `tw_example_ci_bot`.
let server: CliTestServer;
// Every example runs in a copy of the project: new-tool changes the project it runs in.
let copy: ProjectCopy;

beforeAll(async () => {
  [server, copy] = await Promise.all([
    startCliServer({
      config: { auth: { apiKeys: [{ id: "ci-bot", sha256: hashApiKey("tw_example_ci_bot"), level: "authenticated" }] } },
    }),
    copyProject(),
  ]);
}, 60_000);

afterAll(async () => {
  await server?.close();
  await copy?.remove();
});

/** The environment of an example: the test's own, minus Toolwire's and the outer vitest's variables. */
function exampleEnv(): NodeJS.ProcessEnv {
  const env = Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith("TOOLWIRE_") && !key.startsWith("VITEST")));
  // The default URL of the CLI, pointed at this test's server through its documented variable.
  return { ...env, NO_COLOR: "1", TOOLWIRE_URL: server.url };
}

describe("README CLI reference", () => {
  it("shows list, call, watch and new-tool, each with what it prints", () => {
    for (const command of ["list", "call", "watch", "new-tool"]) {
      expect(examples.some((e) => e.command.startsWith(`npx toolwire ${command} `))).toBe(true);
    }
    for (const example of examples) expect(example.expects.length, example.command).toBeGreaterThan(0);
  });

  // In order: watch replays the calls made above it, vitest runs the test new-tool wrote.
  it.each(examples.map((e) => [e.command.split("\n")[0] ?? "", e] as const))(
    "runs `%s` as written",
    async (_title, example) => {
      // stdout and stderr together, in order: the examples show both.
      const { stdout } = await run("bash", ["-c", `{ ${example.command.replaceAll("http://localhost:8081", server.url)}\n} 2>&1`], {
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
