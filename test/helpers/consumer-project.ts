import { mkdir, mkdtemp, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";

const repoRoot = join(import.meta.dirname, "../..");

/** A project of someone who depends on toolwire, in a temp folder outside the repository. */
export interface ConsumerProject {
  /** Its root. */
  readonly root: string;
  /** Writes a file (path relative to the root), creating its folders. */
  write(path: string, content: string): Promise<void>;
  /** Deletes the project. */
  remove(): Promise<void>;
}

/**
 * Creates a consumer project: a package.json that depends on toolwire, `node_modules/toolwire`
 * linked to this repository (as `npm i <path>` would) and `@types/node` beside it, and a strict
 * NodeNext tsconfig covering every .ts file of the project, for tsc to check.
 */
export async function createConsumerProject(name: string): Promise<ConsumerProject> {
  const root = await mkdtemp(join(tmpdir(), `toolwire-${name}-`));
  const write = async (path: string, content: string) => {
    await mkdir(dirname(join(root, path)), { recursive: true });
    await writeFile(join(root, path), content);
  };
  await write("package.json", JSON.stringify({ name, private: true, type: "module", dependencies: { toolwire: "*" } }, null, 2));
  await mkdir(join(root, "node_modules/@types"), { recursive: true });
  await symlink(repoRoot, join(root, "node_modules/toolwire"), "dir");
  await symlink(join(repoRoot, "node_modules/@types/node"), join(root, "node_modules/@types/node"), "dir");
  await write(
    "tsconfig.json",
    JSON.stringify({
      compilerOptions: {
        target: "ES2022",
        module: "NodeNext",
        moduleResolution: "NodeNext",
        lib: ["ES2023"],
        types: ["node"],
        strict: true,
        noUncheckedIndexedAccess: true,
        verbatimModuleSyntax: true,
        // toolwire's package.json points at its TypeScript sources for now, which import JSON.
        resolveJsonModule: true,
        skipLibCheck: true,
        noEmit: true,
      },
      include: ["**/*.ts"],
      exclude: ["node_modules"],
    }),
  );
  return { root, write, remove: () => rm(root, { recursive: true, force: true }) };
}
