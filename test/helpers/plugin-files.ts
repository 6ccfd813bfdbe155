import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** A temporary plugin directory for one test. */
export interface PluginDir {
  readonly path: string;
  /** Writes a file into the directory. */
  write(name: string, content: string): Promise<string>;
  remove(): Promise<void>;
}

/** Creates an empty plugin directory under the system temp dir. */
export async function createPluginDir(): Promise<PluginDir> {
  const path = await mkdtemp(join(tmpdir(), "toolwire-plugins-"));
  return {
    path,
    async write(name, content) {
      const file = join(path, name);
      await writeFile(file, content);
      return file;
    },
    remove: () => rm(path, { recursive: true, force: true }),
  };
}

/** Source of an ES module plugin exporting one tool whose handler answers `{ says }` after `delayMs`. */
export function pluginModule(name: string, version: string, says: string, delayMs = 0, extra = ""): string {
  return `
export const tool = {
  descriptor: { manifest: { name: ${JSON.stringify(name)}, version: ${JSON.stringify(version)}, description: "plugin tool", input: { type: "object" }${extra} } },
  handler: async () => {
    await new Promise((r) => setTimeout(r, ${delayMs}));
    return { says: ${JSON.stringify(says)} };
  },
};
`;
}
