/** The error of a TypeScript plugin that cannot be loaded because no TypeScript loader is there. */
const missingLoader =
  "it is TypeScript, and loading TypeScript needs tsx in the project (npm install --save-dev tsx) or Node.js 22.18 or newer; or compile it to .js";

/** Codes of a failed import of TypeScript that tsx loads: no loader at all, or Node's own type stripping, which neither maps `.js` imports to `.ts` files nor takes every syntax. */
const tsxCanHelp = new Set([
  "ERR_UNKNOWN_FILE_EXTENSION",
  "ERR_MODULE_NOT_FOUND",
  "ERR_UNSUPPORTED_TYPESCRIPT_SYNTAX",
  "ERR_UNSUPPORTED_NODE_MODULES_TYPE_STRIPPING",
]);

let registering: Promise<void> | undefined;

/**
 * Imports a module, registering tsx's loader first when the module is TypeScript that this
 * process cannot load by itself (plain Node, no tsx): only projects with `.ts` plugins need tsx,
 * and they need nothing else. Throws an Error saying what to install when tsx is missing.
 */
export async function importModule(url: string, isTypeScript: boolean): Promise<unknown> {
  if (isTypeScript && registering !== undefined) {
    await registering;
    return import(url);
  }
  try {
    return await import(url);
  } catch (err) {
    if (!isTypeScript || !tsxCanHelp.has(codeOf(err))) throw err;
    registering ??= registerTsx();
    try {
      await registering;
    } catch (missing) {
      throw codeOf(err) === "ERR_UNKNOWN_FILE_EXTENSION" ? missing : err;
    }
  }
  // Node remembers the failed load of this URL: the retry must be a URL of its own.
  return import(`${url}${url.includes("?") ? "&" : "?"}loader=tsx`);
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

function codeOf(err: unknown): string {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === "string" ? code : "";
}
