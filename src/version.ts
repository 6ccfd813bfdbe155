import pkg from "../package.json" with { type: "json" };

/** Toolwire's version, from package.json. */
export const version: string = pkg.version;
