import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/**
 * The directory of the toolwire package, the one holding its package.json and schemas/. Found by
 * walking up from this module, so it is the same whether the sources run (src/) or the build (dist/src/).
 */
export const packageRoot: string = findPackageRoot(dirname(fileURLToPath(import.meta.url)));

/** The absolute path of a file shipped with the package, e.g. `packageFile("schemas/tool-manifest.schema.json")`. */
export function packageFile(path: string): string {
  return join(packageRoot, path);
}

function findPackageRoot(from: string): string {
  for (let dir = from; ; dir = dirname(dir)) {
    const file = join(dir, "package.json");
    if (existsSync(file) && (JSON.parse(readFileSync(file, "utf8")) as { name?: unknown }).name === "toolwire") return dir;
    if (dirname(dir) === dir) throw new Error(`toolwire: cannot find the package.json of toolwire above ${from}`);
  }
}
