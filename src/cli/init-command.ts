import { mkdir, readdir, writeFile } from "node:fs/promises";
import { dirname, join, relative, resolve } from "node:path";
import type { Command } from "commander";
import { cliAction, exitCodesHelp, usageError } from "./exit-codes.js";
import { projectFiles } from "./project-template.js";

/** Flags of `toolwire init`. */
interface InitFlags {
  toolwire?: string;
}

const help = `
Writes a tools project that depends on toolwire:
  package.json        start, generate, new-tool, test and typecheck scripts
  toolwire.json       the server's config: port 8081, the plugin directory tools/
  schemas/tools/      tool manifests (one example: greet.json)
  tools/              handlers and their tests (greet.ts, greet.test.ts)
  gen/                types and descriptors generated from the manifests
  README.md, tsconfig.json, .gitignore

Then: cd <dir> && npm install && npm test && npm start

${exitCodesHelp}`;

/** Adds `toolwire init <dir>`: scaffold a tools project of one's own. */
export function registerInitCommand(program: Command): void {
  program
    .command("init")
    .description("start a tools project of your own: manifests, handlers, tests and a config, ready to serve")
    .argument("<dir>", "folder to create (it must not exist, or be empty)")
    .option("--toolwire <spec>", "how package.json depends on toolwire (default: ^ this version; a path or tarball works too)")
    .addHelpText("after", help)
    .action(cliAction("init", (dir: string, flags: InitFlags) => init(resolve(dir), flags)));
}

async function init(dir: string, flags: InitFlags): Promise<void> {
  const existing = await readdir(dir).catch((err: NodeJS.ErrnoException) => {
    if (err.code === "ENOENT") return [];
    throw usageError(`cannot use ${dir}: ${err.message}`);
  });
  if (existing.length > 0) throw usageError(`${dir} is not empty; give a new folder (toolwire init my-tools)`);
  const files = projectFiles({ dir, toolwireSpec: flags.toolwire });
  for (const [path, content] of files) {
    await mkdir(dirname(join(dir, path)), { recursive: true });
    await writeFile(join(dir, path), content, { flag: "wx" });
  }
  const { compileManifests } = await import("../codegen/compile-manifests.js");
  const compiled = await compileManifests({ root: dir });
  const shown = relative(process.cwd(), dir) || ".";
  process.stdout.write(
    [...files.keys(), ...compiled.files].map((path) => `created   ${join(shown, path)}`).join("\n") +
      `\n\nNext:\n  cd ${shown}\n  npm install\n  npm test\n  npm start\n`,
  );
}
