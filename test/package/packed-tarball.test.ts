import { execFile } from "node:child_process";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createWalkthrough, docRunners, repoRoot, runExample, runnerBlocks, startReadmeServer, type Walkthrough } from "../helpers/readme.js";
import { environment } from "../helpers/processes.js";
import { currentRuntime, installNodeRuntime, otherNodeReleases, type NodeRuntime } from "./node-runtimes.js";

const exec = promisify(execFile);

// Node 22 and 24 are downloaded once into test/.tmp (gitignored) and reused by later runs.
const runtimeCache = join(repoRoot, "test/.tmp/node-runtimes");
const projectBlocks = await runnerBlocks(docRunners.toolProject);
/** npm settings that keep its output to what the commands print. */
const npmQuiet = { npm_config_audit: "false", npm_config_fund: "false", npm_config_update_notifier: "false", NO_COLOR: "1" };
let work: string;
let tarball: string;

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), "toolwire-package-"));
  // npm pack runs prepack, the build: the tarball holds what `npm publish` would.
  const { stdout } = await exec("npm", ["pack", "--silent", "--pack-destination", work], { cwd: repoRoot, timeout: 180_000 });
  tarball = join(work, stdout.trim().split("\n").at(-1) ?? "");
}, 240_000);
afterAll(async () => {
  if (work !== undefined) await rm(work, { recursive: true, force: true });
});

/** Runs a command with `runtime`'s node first on PATH, in `cwd`; resolves with its stdout. */
async function inRuntime(runtime: NodeRuntime, cwd: string, command: string, args: readonly string[]): Promise<string> {
  const env = environment({ ...npmQuiet, PATH: `${runtime.binDir}:${process.env.PATH ?? ""}` });
  try {
    const { stdout } = await exec(command, [...args], { cwd, env, timeout: 300_000, maxBuffer: 16 * 1024 * 1024 });
    return stdout;
  } catch (err) {
    const { stdout = "", stderr = "" } = err as { stdout?: string; stderr?: string };
    throw new Error(`${command} ${args.join(" ")} failed in ${cwd}:\n${stdout}\n${stderr}`);
  }
}

const runtimes: (() => Promise<NodeRuntime>)[] = [async () => currentRuntime(), ...otherNodeReleases.map((release) => () => installNodeRuntime(release, runtimeCache))];

describe.each(runtimes.map((get, i) => [i === 0 ? "the tests' node" : `node ${otherNodeReleases[i - 1]}`, get] as const))(
  "the packed tarball, in an empty project on %s",
  (_name, getRuntime) => {
    let runtime: NodeRuntime;
    let host: string;
    let project: string;
    let walkthrough: Walkthrough | undefined;
    const sh = (cwd: string, command: string, ...args: string[]) => inRuntime(runtime, cwd, command, args);
    const runtimeEnv = (): NodeJS.ProcessEnv => ({ ...npmQuiet, PATH: `${runtime.binDir}:${process.env.PATH ?? ""}`, TOOLWIRE_LOG_LEVEL: "warn" });

    beforeAll(async () => {
      runtime = await getRuntime();
      host = join(work, runtime.name.replace(/\W+/g, "-"));
      project = join(host, "my-tools");
      await mkdir(host, { recursive: true });
      await writeFile(join(host, "package.json"), JSON.stringify({ name: "host", private: true, type: "module" }));
      await sh(host, "npm", "install", tarball);
    }, 600_000);
    afterAll(() => walkthrough?.stop());

    it("is imported by plain node: defineTool, createToolwireApp and createSimpleClient from \"toolwire\"", async () => {
      await writeFile(
        join(host, "check.mjs"),
        `import { createSimpleClient, createToolwireApp, defineTool } from "toolwire";
const shout = defineTool({ manifest: { name: "shout", version: "1.0.0", description: "Upper-cases a word.",
  input: { type: "object", required: ["word"], properties: { word: { type: "string" } } },
  output: { type: "object", required: ["shouted"], properties: { shouted: { type: "string" } } } } },
  (input) => ({ shouted: input.word.toUpperCase() }));
const app = await createToolwireApp({ server: { port: 0 }, logging: { level: "warn" }, tools: { builtins: false } }, { tools: [shout] });
await app.listen();
const result = await createSimpleClient(app.url).callTool("shout", { word: "tarball" });
console.log(result.structuredContent?.shouted, process.version);
await app.close(0);
`,
      );
      const out = await sh(host, "node", "check.mjs");
      expect(out).toContain("TARBALL");
      expect(out).toContain(runtime.name.replace("node ", "v"));
    });

    it("loads a TypeScript plugin without tsx where Node strips types itself, and otherwise says to install tsx", async () => {
      // The host project installed toolwire alone: tsx, an optional peer, is not there.
      await mkdir(join(host, "plugins"), { recursive: true });
      await writeFile(
        join(host, "plugins/shout.ts"),
        `export const shout = { manifest: { name: "shout", version: "1.0.0", description: "Upper-cases a word.",
  input: { type: "object", required: ["word"], properties: { word: { type: "string" } } } },
  handler: (input: { word: string }): string => input.word.toUpperCase() };
`,
      );
      const serve = await startReadmeServer("npx toolwire serve --plugins plugins", host, { PATH: `${runtime.binDir}:${process.env.PATH ?? ""}`, TOOLWIRE_LOG_LEVEL: "warn" });
      try {
        const [major = 0, minor = 0] = runtime.name.replace("node ", "").split(".").map(Number);
        if (major > 22 || (major === 22 && minor >= 18)) {
          const answer = await fetch(`${serve.url}/toolwire.v1.ToolService/CallTool`, {
            method: "POST",
            headers: { "content-type": "application/json" },
            body: JSON.stringify({ name: "shout", arguments: { word: "stripped" } }),
          });
          expect(JSON.stringify(await answer.json())).toContain("STRIPPED");
        } else {
          // Logged, and printed on stderr, whose pipe may deliver after the listening line.
          await expect
            .poll(() => serve.output())
            .toContain("cannot load shout.ts: it is TypeScript, and loading TypeScript needs tsx in the project (npm install --save-dev tsx)");
        }
      } finally {
        await serve.stop();
      }
    });

    it("follows docs/tools.md from toolwire init to a typed client and generate --from-url", async () => {
      const [init, ...steps] = projectBlocks;
      if (init === undefined) throw new Error("docs/tools.md has no tool project walkthrough");
      // The package is not on the registry: the new project depends on the packed tarball instead.
      const command = `${init.code.trim()} --toolwire file:${tarball}`;
      expect(await runExample({ command, expect: undefined }, new Map(), host, runtimeEnv(), 120_000)).toContain(init.expects[0]);
      const env = runtimeEnv();
      walkthrough = createWalkthrough(project, env, 300_000);
      for (const block of steps) {
        if (block.file !== undefined) {
          await writeFile(join(project, block.file), block.code);
          continue;
        }
        const output = await walkthrough.step(block);
        for (const expected of block.expects) expect(output, block.code).toContain(expected);
        // The typed client of the walkthrough finds the server the test started in TOOLWIRE_URL.
        env.TOOLWIRE_URL = walkthrough.urls().get(8081) ?? "";
      }
      // The client generated from the server's listing type-checks in the project too.
      await sh(project, "npm", "run", "typecheck");
      expect(await readFile(join(project, "gen/tools/word_count.ts"), "utf8")).toContain('from "toolwire"');
      expect(await readFile(join(project, "gen/remote/index.ts"), "utf8")).toContain("export function createClient(");
    }, 600_000);

    it("serves the project's tools to MCP clients beside the built-in ones", async () => {
      const url = walkthrough?.urls().get(8081);
      if (url === undefined) throw new Error("the walkthrough's server did not start");
      const mcp = await fetch(`${url}/mcp`, {
        method: "POST",
        headers: { "content-type": "application/json", accept: "application/json, text/event-stream", "mcp-protocol-version": "2025-06-18" },
        body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/list", params: {} }),
      });
      const listed = JSON.stringify(await mcp.text());
      for (const name of ["greet", "word_count", "echo"]) expect(listed).toContain(`\\"name\\":\\"${name}\\"`);
    });
  },
);
