import { existsSync } from "node:fs";

/** The name of a tools project's config file, read by `serve` and `mcp` when no other is given. */
export const projectConfigFile = "toolwire.json";

/**
 * The config file a command uses: `--config`, else `TOOLWIRE_CONFIG`, else `toolwire.json` in the
 * current directory when there is one (a project made by `toolwire init`).
 */
export function configPathOf(flag: string | undefined, env: NodeJS.ProcessEnv): string | undefined {
  return flag ?? env.TOOLWIRE_CONFIG ?? (existsSync(projectConfigFile) ? projectConfigFile : undefined);
}
