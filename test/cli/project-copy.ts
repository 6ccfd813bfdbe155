import { cp, mkdir, mkdtemp, rm, symlink } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { repoRoot } from "./cli-process.js";

/** A throw-away copy of the project, for commands that change it (new-tool). */
export interface ProjectCopy {
  /** Its root. */
  readonly root: string;
  /** Deletes it. */
  remove(): Promise<void>;
}

/**
 * Copies what a Toolwire project needs to build, test and serve its tools — schemas/, src/,
 * gen/, dist/ (the built `toolwire` command, as `npx toolwire` runs it), test/helpers/,
 * package.json, tsconfig.json, tsconfig.build.json, vitest.config.ts — into a temporary directory,
 * with node_modules linked rather than copied. Never run a scaffold in the repository.
 */
export async function copyProject(): Promise<ProjectCopy> {
  const root = await mkdtemp(join(tmpdir(), "toolwire-project-"));
  await Promise.all(["schemas", "src", "gen", "dist", "package.json", "tsconfig.json", "tsconfig.build.json", "vitest.config.ts"].map((entry) => cp(join(repoRoot, entry), join(root, entry), { recursive: true })));
  await mkdir(join(root, "test"), { recursive: true });
  await cp(join(repoRoot, "test/helpers"), join(root, "test/helpers"), { recursive: true });
  await symlink(join(repoRoot, "node_modules"), join(root, "node_modules"), "dir");
  return { root, remove: () => rm(root, { recursive: true, force: true }) };
}
