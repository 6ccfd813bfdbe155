import { access } from "node:fs/promises";
import { join } from "node:path";
import { projectConfigFile } from "./project-config.js";

/**
 * Where a project keeps its tools. A tools project (made by `toolwire init`, holding
 * `toolwire.json`) serves the handlers in `tools/` as a plugin directory, tests beside them; this
 * repository builds its tools in: handlers in `src/tools/`, listed in its index, tests in `test/tools/`.
 */
export interface ProjectLayout {
  /** "project" for a tools project, "repository" for Toolwire's own sources. */
  readonly kind: "project" | "repository";
  /** Folder of handler modules, relative to the root. */
  readonly handlerDir: string;
  /** Folder of handler tests, relative to the root. */
  readonly testDir: string;
  /** The module listing built-in tools, which a new tool is added to; undefined for a tools project. */
  readonly toolIndex: string | undefined;
}

const projectLayout: ProjectLayout = { kind: "project", handlerDir: "tools", testDir: "tools", toolIndex: undefined };
const repositoryLayout: ProjectLayout = { kind: "repository", handlerDir: "src/tools", testDir: "test/tools", toolIndex: "src/tools/index.ts" };

/** The layout of the project at `root`, or undefined when it is neither kind (no schemas/tools/, or no handler folder). */
export async function detectLayout(root: string): Promise<ProjectLayout | undefined> {
  if (!(await exists(join(root, "schemas/tools")))) return undefined;
  if (await exists(join(root, projectConfigFile))) return projectLayout;
  if (await exists(join(root, "src/tools"))) return repositoryLayout;
  return undefined;
}

/** Whether a file or folder exists. */
export async function exists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false;
  }
}
