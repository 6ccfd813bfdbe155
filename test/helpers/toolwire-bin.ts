import { execFile } from "node:child_process";
import { chmod } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";

const root = join(import.meta.dirname, "../..");

/**
 * The `toolwire` command as the package ships it: the compiled bin in dist/, run by plain node.
 * The e2e project's global setup ({@link buildDist}) builds it before any test runs.
 */
export const toolwireBin = join(root, "dist/src/cli/main.js");

/**
 * The node arguments that run the `toolwire` command of the project at `root`: the built bin for
 * this repository, the sources through tsx for a copy of it (whose sources a test changed).
 */
export function toolwireArgs(projectRoot: string = root): string[] {
  return projectRoot === root ? [toolwireBin] : ["--import", import.meta.resolve("tsx"), join(projectRoot, "src/cli/main.ts")];
}

/** Compiles src/ and gen/ into dist/ (incremental: quick when little changed) and makes the bin executable, as `npm run build` does. */
export async function buildDist(): Promise<void> {
  await promisify(execFile)(process.execPath, [join(root, "node_modules/typescript/bin/tsc"), "-p", join(root, "tsconfig.build.json")], { cwd: root });
  // tsc writes files without the execute bit; `npx toolwire` in the repository runs the bin directly.
  await chmod(toolwireBin, 0o755);
}

/** Vitest global setup of the e2e project: the programs under test are the built ones. */
export default buildDist;
