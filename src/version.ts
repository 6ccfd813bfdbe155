import { readFileSync } from "node:fs";
import { packageFile } from "./package-root.js";

/** Toolwire's version, from its package.json (read at run time: the build keeps one package.json). */
export const version: string = (JSON.parse(readFileSync(packageFile("package.json"), "utf8")) as { version: string }).version;
