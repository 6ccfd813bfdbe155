import { readFile } from "node:fs/promises";
import { join } from "node:path";

/**
 * Whether `root` is the toolwire repository itself (its package.json is named "toolwire"): there
 * the generated code imports the sources the package is built from, and the config type is
 * generated too; anywhere else it imports the `toolwire` package.
 */
export async function isToolwireRepository(root: string): Promise<boolean> {
  try {
    const pkg = JSON.parse(await readFile(join(root, "package.json"), "utf8")) as { name?: unknown };
    return pkg.name === "toolwire";
  } catch {
    return false;
  }
}
