/** The error of a TypeScript plugin that cannot be loaded because no TypeScript loader is there. */
const missingLoader =
  "it is TypeScript, and loading TypeScript needs tsx in the project (npm install --save-dev tsx) or Node.js 22.18 or newer; or compile it to .js";

let registering: Promise<void> | undefined;

/**
 * Imports a module, registering tsx's loader first when the module is TypeScript that this
 * process cannot load by itself (plain Node 20, no tsx): only projects with `.ts` plugins need
 * tsx, and they need nothing else. Throws an Error saying what to install when tsx is missing.
 */
export async function importModule(url: string, isTypeScript: boolean): Promise<unknown> {
  try {
    return await import(url);
  } catch (err) {
    if (!isTypeScript || !isUnknownExtension(err)) throw err;
  }
  registering ??= registerTsx();
  await registering;
  return import(url);
}

async function registerTsx(): Promise<void> {
  let api: { register: () => unknown };
  try {
    api = (await import("tsx/esm/api")) as { register: () => unknown };
  } catch {
    registering = undefined;
    throw new Error(missingLoader);
  }
  api.register();
}

function isUnknownExtension(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return code === "ERR_UNKNOWN_FILE_EXTENSION" || code === "ERR_UNSUPPORTED_NODE_MODULES_TYPE_STRIPPING";
}
