import { ConnectError } from "@connectrpc/connect";
import { Option, type Command } from "commander";
import { isAbsolute, join, relative, resolve } from "node:path";
import { CliExit, exitCodes, exitCodesHelp, exitForRpcError, usageError } from "./exit-codes.js";
import { createRemoteClient } from "./remote-options.js";

/** Flags of `toolwire generate`. */
interface GenerateFlags {
  /** Project root. */
  readonly root: string;
  /** Output folder, relative to root. */
  readonly out?: string;
  /** Server whose tools to generate a client for. */
  readonly fromUrl?: string;
  /** API key for --from-url. */
  readonly apiKey?: string;
  /** Bearer token for --from-url. */
  readonly token?: string;
}

const examples = `
Examples:
  toolwire generate                      compile schemas/tools/*.json into gen/tools/
  toolwire generate --root ../my-tools
  TOOLWIRE_API_KEY=… toolwire generate --from-url https://tools.example.com
                                         a typed client for the tools that server lists to you,
                                         in gen/remote/ (--out to choose)

In a project, \`import { createClient } from "./gen/tools/index.js"\` (or gen/remote/) gives a
client whose \`tools\` has one typed method per tool.

${exitCodesHelp}`;

/** Adds `toolwire generate`: compile the tool manifests into gen/tools, or a server's into gen/remote. */
export function registerGenerateCommand(program: Command): void {
  program
    .command("generate")
    .description("validate schemas/tools/*.json and write typed descriptors and a typed client into gen/ (or --from-url: a server's tools)")
    .option("--root <dir>", "project root holding schemas/ and gen/ (default: the current directory)")
    .option("--out <dir>", "output folder, relative to the root (default gen/tools, or gen/remote with --from-url)")
    .option("--from-url <url>", "generate a typed client for the tools this Toolwire server lists to you")
    .addOption(new Option("--api-key <key>", "API key for --from-url (prefer the env variable: flags show in ps)").env("TOOLWIRE_API_KEY"))
    .addOption(new Option("--token <jwt>", "bearer token for --from-url, instead of an API key").env("TOOLWIRE_TOKEN"))
    .addHelpText("after", examples)
    .action(async (flags: Omit<GenerateFlags, "root"> & { root?: string }) => {
      try {
        const root = resolve(flags.root ?? process.cwd());
        checkOutDir(root, flags.out);
        await (flags.fromUrl === undefined ? generateLocal({ ...flags, root }) : generateRemote({ ...flags, root }, flags.fromUrl));
      } catch (err) {
        const exit = err instanceof CliExit ? err : new CliExit(exitCodes.failed, err instanceof Error ? err.message : String(err));
        // Manifest errors list one violation a line: kept as they are.
        process.stderr.write(`toolwire generate: ${exit.message}\n`);
        process.exitCode = exit.exitCode;
      }
    });
}

async function generateLocal(flags: GenerateFlags): Promise<void> {
  const [{ compileManifests }, { compileConfigSchema }, { compileValidators }, { isToolwireRepository }] = await Promise.all([
    import("../codegen/index.js"),
    import("../codegen/compile-config.js"),
    import("../codegen/compile-validators.js"),
    import("../codegen/project-kind.js"),
  ]);
  const result = await compileManifests({ root: flags.root, outDir: flags.out });
  let files = result.files.length;
  // Only Toolwire itself has a config schema to type and compile; a project's tools do not need one.
  if (await isToolwireRepository(flags.root)) {
    await compileConfigSchema(flags.root);
    files += 1 + (await compileValidators(flags.root)).length;
  }
  process.stdout.write(`toolwire generate: ${result.tools.length} tools, ${files} files\n`);
}

async function generateRemote(flags: GenerateFlags, url: string): Promise<void> {
  const [client, { generateFromServer }] = await Promise.all([
    createRemoteClient({ url, apiKey: flags.apiKey, token: flags.token }),
    import("../codegen/generate-from-server.js"),
  ]);
  try {
    const result = await generateFromServer({ client, root: flags.root, outDir: flags.out });
    const out = flags.out ?? "gen/remote";
    process.stdout.write(`toolwire generate: ${result.tools.length} tools from ${url} into ${out}/\n`);
    if (result.tools.length === 0) process.stderr.write("the server lists no tools to you (check --api-key / TOOLWIRE_API_KEY)\n");
    if (result.deprecated.length > 0) process.stderr.write(`deprecated (marked @deprecated): ${result.deprecated.join(", ")}\n`);
  } catch (err) {
    throw err instanceof ConnectError ? exitForRpcError(err, url) : err;
  } finally {
    await client.disconnect();
  }
}


/**
 * The output folder must lie inside the root and hold no manifests: it is replaced as a whole.
 * Throws a usage error otherwise.
 */
function checkOutDir(root: string, out: string | undefined): void {
  if (out === undefined) return;
  const dir = resolve(root, out);
  const inside = relative(root, dir);
  const holdsManifests = !relative(dir, join(root, "schemas/tools")).startsWith("..");
  if (inside === "" || inside.startsWith("..") || isAbsolute(inside) || holdsManifests) {
    throw usageError(`--out must be a folder inside the project root that holds no manifests (it is replaced as a whole); got "${out}"`);
  }
}
