import { execFile, spawn, type ChildProcess } from "node:child_process";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { dirname, join, relative } from "node:path";
import { promisify } from "node:util";
import { captureOutput, waitForOutput } from "./processes.js";

const run = promisify(execFile);

/** The repository root. */
export const repoRoot = join(import.meta.dirname, "../..");

/** Every page of the documentation: the README and one page per topic in docs/. */
export const docPages: readonly string[] = [
  "README.md",
  "docs/tools.md",
  "docs/client.md",
  "docs/mcp.md",
  "docs/security.md",
  "docs/monitoring.md",
  "docs/cli.md",
  "docs/deployment.md",
  "docs/development.md",
  "docs/configuration.md",
];

/** One runnable example: the commands and the text its output must contain. */
export interface ReadmeExample {
  readonly command: string;
  readonly expect: string | undefined;
}

/** A page of the documentation (a path from the repository root) as it is now. */
export function readDoc(page: string): Promise<string> {
  return readFile(join(repoRoot, page), "utf8");
}

/** README.md as it is now. */
export function readReadme(): Promise<string> {
  return readDoc("README.md");
}

/** The text of a `## title` section of `markdown` (up to the next `## `), or "" when it has none. */
export function sectionOf(markdown: string, title: string): string {
  const start = markdown.indexOf(`\n## ${title}\n`);
  if (start === -1) return "";
  const end = markdown.indexOf("\n## ", start + 4);
  return markdown.slice(start, end === -1 ? undefined : end);
}

/** The text of a `## title` section of a page. */
export async function docSection(page: string, title: string): Promise<string> {
  return sectionOf(await readDoc(page), title);
}

/** The text of a `## title` section of README.md. */
export async function readmeSection(title: string): Promise<string> {
  return docSection("README.md", title);
}

/** One fenced block of a page, with the marks around it. */
export interface DocBlock {
  /** The page it is on. */
  readonly page: string;
  /** The `## ` section it is in ("" before the first). */
  readonly section: string;
  /** The fence's language (`sh`, `bash`, `ts`, `json`, …; "" for none). */
  readonly lang: string;
  /** Its text, with the indentation of the fence taken off. */
  readonly code: string;
  /** The `<!-- expect: … -->` comments right after it, in order. */
  readonly expects: readonly string[];
  /** Where the reader saves it: `<!-- file: path -->` right before it. */
  readonly file: string | undefined;
  /** Why no test runs it: `<!-- not-run: reason -->` right before it. */
  readonly notRun: string | undefined;
}

/** The fenced blocks of a page's markdown, in order. */
export function docBlocksOf(page: string, markdown: string): DocBlock[] {
  const lines = markdown.split("\n");
  const blocks: DocBlock[] = [];
  let section = "";
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] ?? "";
    if (line.startsWith("## ")) section = line.slice(3).trim();
    const open = /^(\s*)```(\w*)\s*$/.exec(line);
    if (open === null) continue;
    const indent = open[1]?.length ?? 0;
    const body: string[] = [];
    for (i++; i < lines.length && (lines[i] ?? "").trim() !== "```"; i++) body.push((lines[i] ?? "").slice(indent));
    const before = lines.slice(Math.max(0, i - body.length - 3), i - body.length - 1).map((l) => l.trim());
    const mark = (name: string) => before.map((l) => new RegExp(`^<!-- ${name}: (.+?) -->$`).exec(l)?.[1]).find((m) => m !== undefined);
    const expects: string[] = [];
    for (let j = i + 1; j < lines.length; j++) {
      const expect = /^<!-- expect: (.*) -->$/.exec(lines[j] ?? "")?.[1];
      if (expect === undefined) break;
      expects.push(expect);
    }
    blocks.push({ page, section, lang: open[2] ?? "", code: body.join("\n") + "\n", expects, file: mark("file"), notRun: mark("not-run") });
  }
  return blocks;
}

/** The fenced blocks of a page. */
export async function docBlocks(page: string): Promise<DocBlock[]> {
  return docBlocksOf(page, await readDoc(page));
}

/**
 * Which test runs which blocks of the documentation. Each test reads its blocks through
 * {@link runnerBlocks}, and test/docs-coverage.test.ts fails when a sh, bash or ts block of any page
 * is run by none of them (and not marked `<!-- not-run: reason -->`).
 */
export interface DocRunner {
  /** The test file that runs the blocks. */
  readonly test: string;
  /** The pages it reads. */
  readonly pages: readonly string[];
  /** Whether it runs this block of those pages. */
  runs(block: DocBlock): boolean;
}

/** Whether a block is a shell command of the kind `kind`. */
const shell = (block: DocBlock, pattern: RegExp) => block.lang === "sh" && pattern.test(block.code.trim());

/** Every runner of documentation blocks, by name. */
export const docRunners = {
  /** curl and buf curl commands against the server `npm start` runs, on every page. */
  server: { test: "test/readme.test.ts", pages: docPages, runs: (b) => shell(b, /^(curl|npx buf curl)\b/) },
  /** The quick start's `npm install && npm start` (the start part: the tests run offline). */
  quickStart: { test: "test/readme.test.ts", pages: ["README.md"], runs: (b) => shell(b, /^npm install && npm start$/) },
  /** MCP Inspector commands, on every page. */
  inspector: { test: "test/mcp/inspector.test.ts", pages: docPages, runs: (b) => shell(b, /mcp-inspector/) },
  /** The TypeScript client programs of the README's tour and the client page. */
  client: { test: "test/client/readme-client.test.ts", pages: ["README.md", "docs/client.md"], runs: (b) => b.lang === "ts" && b.file === undefined },
  /** The security walkthrough: its files, servers and calls. */
  security: { test: "test/readme-security.test.ts", pages: ["docs/security.md"], runs: (b) => b.lang === "bash" || b.file !== undefined },
  /** The CLI reference's commands. */
  cli: { test: "test/readme-cli.test.ts", pages: ["docs/cli.md"], runs: (b) => b.lang === "bash" },
  /** The plugin walkthrough: its files, its server and its calls. */
  plugins: { test: "test/readme-plugins.test.ts", pages: ["docs/tools.md"], runs: (b) => b.section === "Writing a plugin" && (b.lang === "bash" || b.file !== undefined) },
  /** A tools project of one's own, from `toolwire init` to a typed client, with the packed package on Node 20, 22 and 24. */
  toolProject: {
    test: "test/package/packed-tarball.test.ts",
    pages: ["docs/tools.md"],
    runs: (b) => b.section === "Tool projects of your own" && (b.lang === "bash" || b.file !== undefined),
  },
  /** Adding a tool to this repository by hand, in a copy of it. */
  addingTool: { test: "test/readme-tools.test.ts", pages: ["docs/tools.md"], runs: (b) => b.section === "Adding a tool" && (b.lang === "bash" || b.file !== undefined) },
  /** Blocks that show a file of examples/: test/docs-coverage.test.ts checks they are that file, and test/examples/ runs it. */
  examples: { test: "test/docs-coverage.test.ts", pages: docPages, runs: (b) => b.file?.startsWith("examples/") === true },
} satisfies Record<string, DocRunner>;

/** The blocks a runner runs, page by page in order. */
export async function runnerBlocks(runner: DocRunner): Promise<DocBlock[]> {
  const pages = await Promise.all(runner.pages.map((page) => docBlocks(page)));
  return pages.flat().filter((block) => runner.runs(block));
}

/** A block as an example to run: its commands and the first text it must print. */
export function exampleOf(block: DocBlock): ReadmeExample {
  return { command: block.code.trim(), expect: block.expects[0] };
}

/** Where each import specifier of the toolwire package points in this repository's sources. */
const toolwireEntries: Readonly<Record<string, string>> = {
  toolwire: "src/index.ts",
  "toolwire/client": "src/client/index.ts",
  "toolwire/server": "src/server/index.ts",
  "toolwire/mcp": "src/mcp/index.ts",
};

/**
 * `code` with its imports of the toolwire package ("toolwire", "toolwire/client", …) pointed at
 * this repository's sources, for a file that will live in `dir`: the docs show what a user of the
 * package writes, the tests run it against the code beside them (the packed package is tested
 * elsewhere).
 */
export function resolveToolwireImports(code: string, dir: string): string {
  return code.replace(/((?:from|import)\s*\(?\s*)"(toolwire(?:\/[\w-]+)?)"/g, (_match, head: string, specifier: string) => {
    const entry = toolwireEntries[specifier];
    if (entry === undefined) throw new Error(`no source entry for "${specifier}": add it to toolwireEntries`);
    const path = relative(dir, join(repoRoot, entry)).replace(/\.ts$/, ".js");
    return `${head}"${path.startsWith(".") ? path : `./${path}`}"`;
  });
}

/** One fenced block: its text and the `<!-- expect: … -->` comments right after it, in order. */
export interface FencedBlock {
  readonly code: string;
  readonly expects: readonly string[];
}

/** The ```lang blocks of `markdown`, each with the expect comments that follow it. */
export function fencedBlocks(markdown: string, lang: string): FencedBlock[] {
  return docBlocksOf("", markdown).filter((b) => b.lang === lang);
}

/** Blocks preceded by `<!-- file: path -->`, as path → content. */
export function fileBlocks(blocks: readonly DocBlock[]): Map<string, string> {
  return new Map(blocks.flatMap((b) => (b.file === undefined ? [] : [[b.file, b.code] as const])));
}

/** Writes file blocks under `dir`. */
export async function writeFileBlocks(dir: string, files: Map<string, string>): Promise<void> {
  for (const [path, content] of files) {
    await mkdir(dirname(join(dir, path)), { recursive: true });
    await writeFile(join(dir, path), content);
  }
}

/** A `toolwire serve` command from the docs, running in its own process group. */
export interface ReadmeServer {
  readonly url: string;
  /** Everything it printed so far. */
  output(): string;
  /** SIGTERM to its process group; resolves when it exited. */
  stop(): Promise<void>;
}

/**
 * Runs a serve command from the docs as written (bash), on a random port (a `--port N` it gives
 * becomes `--port 0`), and waits for its address.
 */
export async function startReadmeServer(command: string, cwd: string, env: NodeJS.ProcessEnv): Promise<ReadmeServer> {
  const child: ChildProcess = spawn("bash", ["-c", command.replace(/--port \d+/g, "--port 0")], {
    cwd,
    env: { ...process.env, TOOLWIRE_PORT: "0", NO_COLOR: "1", ...env },
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
  });
  const { output } = captureOutput(child);
  const [, url = ""] = await waitForOutput(child, output, /toolwire listening on (\S+)/);
  return {
    url,
    output,
    async stop() {
      if (child.pid === undefined || child.exitCode !== null) return;
      const exited = new Promise((resolve) => child.once("exit", resolve));
      process.kill(-child.pid, "SIGTERM");
      await exited;
    },
  };
}

/** The port a documented command talks to or serves on (`localhost:N`, `--port N`; default 8081). */
export function portOf(command: string): number {
  const port = /(?:localhost:|--port )(\d+)/.exec(command)?.[1];
  return port === undefined ? 8081 : Number(port);
}

/**
 * Runs an example with bash and returns its stdout. `urls` maps the documented port to the test's
 * server (a string: the one server on http://localhost:8081).
 */
export async function runExample(
  example: ReadmeExample,
  urls: string | ReadonlyMap<number, string>,
  cwd: string,
  env: NodeJS.ProcessEnv = {},
  timeoutMs = 30_000,
): Promise<string> {
  const byPort = typeof urls === "string" ? new Map([[8081, urls]]) : urls;
  const command = example.command.replace(/http:\/\/localhost:(\d+)/g, (documented, port: string) => byPort.get(Number(port)) ?? documented);
  const { stdout } = await run("bash", ["-c", command], { cwd, timeout: timeoutMs, env: { ...process.env, NO_COLOR: "1", ...env } });
  return stdout;
}

/** Whether a documented command starts a server (it runs until stopped). */
export function isServeCommand(command: string): boolean {
  return /\btoolwire serve\b|^npm start$/m.test(command);
}

/** A walkthrough being run: its servers by documented port, started as its serve commands come. */
export interface Walkthrough {
  /** Runs one block: starts a server for a serve command (returns what it printed so far), else runs it (returns stdout). */
  step(block: DocBlock): Promise<string>;
  /** The servers started so far, by the port the docs give them. */
  urls(): Map<number, string>;
  /** Stops every server it started. */
  stop(): Promise<void>;
}

/** Runs a page's walkthrough in `dir`, block by block, in the order the tests give them; a command may take `timeoutMs`. */
export function createWalkthrough(dir: string, env: NodeJS.ProcessEnv = {}, timeoutMs = 30_000): Walkthrough {
  const servers = new Map<number, ReadmeServer>();
  const urls = () => new Map([...servers].map(([port, server]) => [port, server.url]));
  return {
    urls,
    async step(block) {
      if (!isServeCommand(block.code)) return runExample(exampleOf(block), urls(), dir, env, timeoutMs);
      const server = await startReadmeServer(block.code.trim(), dir, env);
      servers.set(portOf(block.code), server);
      return server.output();
    },
    async stop() {
      await Promise.all([...servers.values()].map((server) => server.stop()));
    },
  };
}
