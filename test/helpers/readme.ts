import { execFile, spawn, type ChildProcess } from "node:child_process";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { promisify } from "node:util";
import { captureOutput, waitForOutput } from "./processes.js";

const run = promisify(execFile);

/** The repository root. */
export const repoRoot = join(import.meta.dirname, "../..");

/** One runnable example: the commands and the text its output must contain. */
export interface ReadmeExample {
  readonly command: string;
  readonly expect: string | undefined;
}

/** README.md as it is now. */
export function readReadme(): Promise<string> {
  return readFile(join(repoRoot, "README.md"), "utf8");
}

/** The text of a `## title` section of README.md (up to the next `## `). */
export async function readmeSection(title: string): Promise<string> {
  const readme = await readReadme();
  const start = readme.indexOf(`\n## ${title}\n`);
  if (start === -1) return "";
  const end = readme.indexOf("\n## ", start + 4);
  return readme.slice(start, end === -1 ? undefined : end);
}

/** One fenced block: its text and the `<!-- expect: … -->` comments right after it, in order. */
export interface FencedBlock {
  readonly code: string;
  readonly expects: readonly string[];
}

/** The ```lang blocks of `markdown`, each with the expect comments that follow it. */
export function fencedBlocks(markdown: string, lang: string): FencedBlock[] {
  const block = new RegExp("```" + lang + "\\n([\\s\\S]*?)```\\n((?:<!-- expect: .* -->(?:\\n|$))*)", "g");
  return [...markdown.matchAll(block)].map((m) => ({
    code: m[1] ?? "",
    expects: [...(m[2] ?? "").matchAll(/<!-- expect: (.*) -->/g)].map((e) => e[1] ?? ""),
  }));
}

/** The section's ```bash blocks, each with the `<!-- expect: … -->` comment that follows it. */
export function bashExamples(section: string): ReadmeExample[] {
  return fencedBlocks(section, "bash").map((b) => ({ command: b.code.trim(), expect: b.expects[0] }));
}

/** Blocks preceded by `<!-- file: path -->`, as path → content. */
export function fileBlocks(section: string): Map<string, string> {
  return new Map([...section.matchAll(/<!-- file: (\S+) -->\n```\w*\n([\s\S]*?)```/g)].map((m) => [m[1] ?? "", m[2] ?? ""]));
}

/** Writes file blocks under `dir`. */
export async function writeFileBlocks(dir: string, files: Map<string, string>): Promise<void> {
  for (const [path, content] of files) {
    await mkdir(dirname(join(dir, path)), { recursive: true });
    await writeFile(join(dir, path), content);
  }
}

/** A `toolwire serve` command from the README, running in its own process group. */
export interface ReadmeServer {
  readonly url: string;
  /** Everything it printed so far. */
  output(): string;
  /** SIGTERM to its process group; resolves when it exited. */
  stop(): Promise<void>;
}

/** Runs a README's serve command as written (bash), on a random port, and waits for its address. */
export async function startReadmeServer(command: string, cwd: string, env: NodeJS.ProcessEnv): Promise<ReadmeServer> {
  const child: ChildProcess = spawn("bash", ["-c", command], {
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

/** Runs an example with bash against `url` (for http://localhost:8081) and returns its stdout. */
export async function runExample(example: ReadmeExample, url: string, cwd: string, env: NodeJS.ProcessEnv = {}): Promise<string> {
  const command = example.command.replaceAll("http://localhost:8081", url);
  const { stdout } = await run("bash", ["-c", command], { cwd, timeout: 30_000, env: { ...process.env, NO_COLOR: "1", ...env } });
  return stdout;
}
