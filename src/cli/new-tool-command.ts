import { mkdir, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { join, relative, resolve } from "node:path";
import { Option, type Command } from "commander";
import type { SecurityLevelName } from "../security/security-level.js";
import { CliExit, cliAction, exitCodes, exitCodesHelp, usageError } from "./exit-codes.js";
import {
  handlerTemplate,
  manifestTemplate,
  mentions,
  registerInToolIndex,
  scaffoldNames,
  testTemplate,
  toolIdent,
  toolIndexInstructions,
  type ToolScaffoldNames,
  type ToolScaffoldSpec,
} from "./scaffold.js";
import { detectLayout, exists, type ProjectLayout } from "./project-layout.js";

/** Flags of `toolwire new-tool`. */
interface NewToolFlags {
  root: string;
  description?: string;
  category: string;
  level: SecurityLevelName;
  json?: boolean;
}

const examples = `
Examples:
  toolwire new-tool word_count --description "Counts the words in a text." --category text
  toolwire new-tool disk_report --level authenticated --root ../my-toolwire

Writes, in a tools project (made by toolwire init: toolwire.json, schemas/tools/, tools/):
  schemas/tools/<name>.json       the manifest: one "text" string in, the text and its length out
  tools/<file>.ts                 the handler, typed by the generated descriptor
  tools/<file>.test.ts            its test (node:test, through the call pipeline; npm test runs it)
In Toolwire's own repository, the handler goes to src/tools/, the test to test/tools/, and the
handler is added to builtinTools in src/tools/index.ts. Either way it then runs the manifest
compiler, so gen/tools/<name>.ts exists and the new test passes at once. Refuses (exit 2) a name
the manifest rule forbids or a tool that already exists; on any failure it removes what it wrote.

${exitCodesHelp}`;

/** Adds `toolwire new-tool <name>`: scaffold a manifest, a handler and a test, then generate. */
export function registerNewToolCommand(program: Command): void {
  program
    .command("new-tool")
    .description("scaffold a new tool: manifest, handler and test, generated and ready to serve")
    .argument("<name>", "tool name (1-128 of A-Z a-z 0-9 _ . -), like word_count")
    .option("--root <dir>", "project root (a tools project with toolwire.json, or Toolwire's repository)", process.cwd())
    .option("--description <text>", "what the tool does, for people and models (edit the manifest later)")
    .option("--category <category>", "category of the tool", "general")
    .addOption(new Option("--level <level>", "security level: who may call it").choices(["public", "authenticated", "restricted", "admin"]).default("public"))
    .option("--json", "print what was written as a JSON object")
    .addHelpText("after", examples)
    .action(cliAction("new-tool", (name: string, flags: NewToolFlags) => newTool(name, flags)));
}

/** Files the scaffold wrote or changed, so a failure can put everything back. */
interface Changes {
  readonly created: string[];
  readonly updated: Map<string, string>;
  generated: boolean;
}

async function newTool(name: string, flags: NewToolFlags): Promise<void> {
  const root = resolve(flags.root);
  const names = scaffoldNames(name);
  if ("problem" in names) throw usageError(names.problem);
  const layout = await detectLayout(root);
  if (layout === undefined) {
    throw usageError(`${root} is not a tools project: it has no toolwire.json and schemas/tools/ (make one with \`toolwire init <dir>\`, or use --root)`);
  }
  const spec: ToolScaffoldSpec = {
    name,
    description: flags.description ?? `Answers the text it is given and its length (scaffolded by toolwire new-tool; describe what ${name} does).`,
    category: flags.category,
    level: flags.level,
  };
  const paths = {
    manifest: join(root, "schemas/tools", `${name}.json`),
    handler: join(root, layout.handlerDir, `${names.fileName}.ts`),
    test: join(root, layout.testDir, `${names.fileName}.test.ts`),
    index: layout.toolIndex === undefined ? undefined : join(root, layout.toolIndex),
    generated: join(root, "gen/tools", `${name}.ts`),
  };
  await refuseExisting(root, names, paths);

  const [{ validateManifest, ManifestError }, { compileManifests }] = await Promise.all([
    import("../registry/manifest-validation.js"),
    import("../codegen/compile-manifests.js"),
  ]);
  const manifest = manifestTemplate(spec, layout);
  try {
    validateManifest(manifest, relative(root, paths.manifest));
  } catch (err) {
    if (err instanceof ManifestError) throw usageError(err.message);
    throw err;
  }

  const changes: Changes = { created: [], updated: new Map(), generated: false };
  const notes: string[] = [];
  try {
    await create(changes, paths.manifest, `${JSON.stringify(manifest, null, 2)}\n`);
    await create(changes, paths.handler, handlerTemplate(names, spec, layout));
    await mkdir(join(root, layout.testDir), { recursive: true });
    await create(changes, paths.test, testTemplate(names, layout));
    if (layout.kind === "repository") await addToToolIndex(root, names, paths.index, changes, notes);

    changes.generated = true;
    const compiled = await compileManifests({ root });
    // The handler names the descriptor by the compiler's rule: make sure they agree.
    const generated = await readFile(paths.generated, "utf8");
    if (!generated.includes(`export const ${names.ident}Tool:`)) {
      throw new Error(`gen/tools/${name}.ts does not export ${names.ident}Tool, which the handler imports`);
    }
    report(root, name, changes, compiled.tools.length, paths.generated, notes, flags.json === true, layout);
  } catch (err) {
    await rollBack(changes, root, compileManifests);
    if (err instanceof CliExit) throw err;
    throw new CliExit(exitCodes.failed, `${err instanceof Error ? err.message : String(err)} (nothing was left changed)`);
  }
}

/** Adds the handler to the repository's list of built-in tools, or notes what to add by hand. */
async function addToToolIndex(root: string, names: ToolScaffoldNames, indexPath: string | undefined, changes: Changes, notes: string[]): Promise<void> {
  for (const helper of ["test/helpers/run-tool.ts", "test/helpers/tool-schemas.ts"]) {
    if (!(await exists(join(root, helper)))) notes.push(`the test imports ${helper}, which this project does not have`);
  }
  const index = indexPath !== undefined && (await exists(indexPath)) ? await readFile(indexPath, "utf8") : undefined;
  const edited = index === undefined ? undefined : registerInToolIndex(index, names);
  if (indexPath !== undefined && index !== undefined && edited !== undefined) {
    changes.updated.set(indexPath, index);
    await writeFile(indexPath, edited);
    return;
  }
  notes.push(
    `src/tools/index.ts ${index === undefined ? "does not exist" : "does not have the expected shape"}; register the tool by hand:\n` +
      toolIndexInstructions(names),
  );
}

/** Refuses (usage error) a tool whose files exist, or whose identifier another tool already has. */
async function refuseExisting(
  root: string,
  names: ToolScaffoldNames,
  paths: Record<"manifest" | "handler" | "test", string> & { readonly index: string | undefined },
): Promise<void> {
  if (await exists(paths.manifest)) throw usageError(`tool "${names.name}" already exists (${relative(root, paths.manifest)})`);
  for (const file of await readdir(join(root, "schemas/tools"))) {
    if (!file.endsWith(".json")) continue;
    const other = file.slice(0, -".json".length);
    if (other.toLowerCase() === names.name.toLowerCase()) throw usageError(`tool "${other}" already exists and differs from "${names.name}" only in case`);
    if (toolIdent(other) === names.ident) {
      throw usageError(`"${names.name}" and the existing tool "${other}" would both generate ${names.ident}Tool; pick another name`);
    }
  }
  for (const path of [paths.handler, paths.test]) {
    if (await exists(path)) throw usageError(`"${names.name}" would be written to ${relative(root, path)}, which exists; pick another name`);
  }
  if (paths.index !== undefined && (await exists(paths.index)) && mentions(await readFile(paths.index, "utf8"), names.ident)) {
    throw usageError(`src/tools/index.ts already has something named ${names.ident}; pick another name`);
  }
}

async function create(changes: Changes, path: string, content: string): Promise<void> {
  // "wx": never overwrite, even a file that appeared after the checks.
  await writeFile(path, content, { flag: "wx" });
  changes.created.push(path);
}

/** Puts the project back as it was: removes created files, restores edited ones, regenerates. */
async function rollBack(changes: Changes, root: string, compile: (options: { root: string }) => Promise<unknown>): Promise<void> {
  await Promise.all(changes.created.map((path) => rm(path, { force: true })));
  await Promise.all([...changes.updated].map(([path, content]) => writeFile(path, content)));
  if (changes.generated) await compile({ root }).catch(() => undefined);
}

function report(
  root: string,
  name: string,
  changes: Changes,
  toolCount: number,
  generated: string,
  notes: readonly string[],
  json: boolean,
  layout: ProjectLayout,
): void {
  const rel = (path: string) => relative(root, path);
  if (json) {
    const out = { tool: name, created: changes.created.map(rel), updated: [...changes.updated.keys()].map(rel), generated: rel(generated), notes };
    process.stdout.write(`${JSON.stringify(out)}\n`);
    return;
  }
  const lines = [
    ...changes.created.map((path) => `created   ${rel(path)}`),
    ...[...changes.updated.keys()].map((path) => `updated   ${rel(path)} (added to builtinTools)`),
    `generated ${rel(generated)} (${toolCount} tools compiled)`,
  ];
  process.stdout.write(`${lines.join("\n")}\n`);
  for (const note of notes) process.stderr.write(`note: ${note}\n`);
  const test = changes.created.find((path) => path.endsWith(".test.ts"));
  process.stdout.write(
    `\nNext: shape schemas/tools/${name}.json and the handler, run \`toolwire generate\` after changing the manifest,` +
      `${test === undefined ? "" : layout.kind === "project" ? " and `npm test`" : ` and \`npx vitest run ${rel(test)}\``}.\n`,
  );
}
