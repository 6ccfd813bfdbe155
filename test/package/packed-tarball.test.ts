import { execFile } from "node:child_process";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { repoRoot, startReadmeServer, type ReadmeServer } from "../helpers/readme.js";
import { environment } from "../helpers/processes.js";
import { currentRuntime, installNodeRuntime, otherNodeReleases, type NodeRuntime } from "./node-runtimes.js";

const exec = promisify(execFile);

// Node 22 and 24 are downloaded once into test/.tmp (gitignored) and reused by later runs.
const runtimeCache = join(repoRoot, "test/.tmp/node-runtimes");
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
  const env = environment({ PATH: `${runtime.binDir}:${process.env.PATH ?? ""}`, npm_config_audit: "false", npm_config_fund: "false", npm_config_update_notifier: "false", NO_COLOR: "1" });
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
    let server: ReadmeServer | undefined;
    const sh = (cwd: string, command: string, ...args: string[]) => inRuntime(runtime, cwd, command, args);

    beforeAll(async () => {
      runtime = await getRuntime();
      host = join(work, runtime.name.replace(/\W+/g, "-"));
      project = join(host, "my-tools");
      await mkdir(host, { recursive: true });
      await writeFile(join(host, "package.json"), JSON.stringify({ name: "host", private: true, type: "module" }));
      await sh(host, "npm", "install", tarball);
    }, 600_000);
    afterAll(() => server?.stop());

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

    it("starts a tools project: init, npm install, new-tool, generate, test, typecheck", async () => {
      const init = await sh(host, "npx", "toolwire", "init", "my-tools", "--toolwire", `file:${tarball}`);
      expect(init).toContain("created   my-tools/gen/tools/greet.ts");
      await sh(project, "npm", "install");
      const added = await sh(project, "npx", "toolwire", "new-tool", "word_count");
      expect(added).toContain("created   tools/word-count.ts");
      expect(await sh(project, "npm", "run", "generate")).toContain("2 tools");
      const tests = await sh(project, "npm", "test");
      // node:test prints "# pass 4" (TAP, Node 20 and 22 when piped) or "ℹ pass 4" (spec, Node 24).
      expect(tests).toMatch(/(#|ℹ) pass 4\b/);
      expect(tests).toMatch(/(#|ℹ) fail 0\b/);
      await sh(project, "npm", "run", "typecheck");
      const generated = await readFile(join(project, "gen/tools/word_count.ts"), "utf8");
      expect(generated).toContain('from "toolwire"');
    });

    it("serves the project's tools beside the built-in ones and calls them typed, over Connect and MCP", async () => {
      server = await startReadmeServer("npm start", project, { PATH: `${runtime.binDir}:${process.env.PATH ?? ""}`, TOOLWIRE_LOG_LEVEL: "warn" });
      const response = await fetch(`${server.url}/toolwire.v1.ToolService/CallTool`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ name: "greet", arguments: { name: "Ada", language: "fr" } }),
      });
      expect(await response.json()).toMatchObject({ structuredContent: { greeting: "Bonjour, Ada !" } });

      await writeFile(
        join(project, "call.ts"),
        `import { createClient } from "./gen/tools/index.js";
const { tools } = createClient(process.argv[2] ?? "");
const counted = await tools.word_count({ text: "héllo" });
const echoed = await tools.greet({ name: "typed" });
console.log(JSON.stringify([counted, echoed.greeting]));
`,
      );
      await sh(project, "npx", "tsc", "--noEmit", "--module", "nodenext", "--target", "es2022", "--strict", "--skipLibCheck", "--types", "node", "call.ts");
      const typed = await sh(project, "npx", "tsx", "call.ts", server.url);
      expect(JSON.parse(typed)).toEqual([{ text: "héllo", length: 5 }, "Hello, typed!"]);

      const mcp = await fetch(`${server.url}/mcp`, {
        method: "POST",
        headers: { "content-type": "application/json", accept: "application/json, text/event-stream", "mcp-protocol-version": "2025-06-18" },
        body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/list", params: {} }),
      });
      const listed = JSON.stringify(await mcp.text());
      for (const name of ["greet", "word_count", "echo"]) expect(listed).toContain(`\\"name\\":\\"${name}\\"`);
    });
  },
);
