import type { Command } from "commander";
import { fileURLToPath } from "node:url";
import { resolve } from "node:path";

/** Adds `toolwire generate`: compile the tool manifests into gen/tools. */
export function registerGenerateCommand(program: Command): void {
  program
    .command("generate")
    .description("validate schemas/tools/*.json and write typed descriptors into gen/ (buf generate writes gen/proto)")
    .option("--root <dir>", "project root holding schemas/ and gen/", fileURLToPath(new URL("../..", import.meta.url)))
    .action(async (opts: { root: string }) => {
      const [{ compileManifests }, { compileConfigSchema }] = await Promise.all([
        import("../codegen/index.js"),
        import("../codegen/compile-config.js"),
      ]);
      try {
        const result = await compileManifests({ root: resolve(opts.root) });
        await compileConfigSchema(resolve(opts.root));
        process.stdout.write(`toolwire generate: ${result.tools.length} tools, ${result.files.length + 1} files\n`);
      } catch (err) {
        process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
        process.exitCode = 1;
      }
    });
}
