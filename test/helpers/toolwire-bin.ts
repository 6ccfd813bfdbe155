import { execFile } from "node:child_process";
import { join } from "node:path";
import { promisify } from "node:util";

const root = join(import.meta.dirname, "../..");

/**
 * The `toolwire` command as the package ships it: the compiled bin in dist/, run by plain node.
 * The e2e project's global setup ({@link buildDist}) builds it before any test runs.
 */
export const toolwireBin = join(root, "dist/src/cli/main.js");

/** Compiles src/ and gen/ into dist/ (incremental: quick when little changed), as `npm run build` does. */
export async function buildDist(): Promise<void> {
  await promisify(execFile)(process.execPath, [join(root, "node_modules/typescript/bin/tsc"), "-p", join(root, "tsconfig.build.json")], { cwd: root });
}

/** Vitest global setup of the e2e project: the programs under test are the built ones. */
export default buildDist;
