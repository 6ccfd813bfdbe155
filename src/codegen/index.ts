export {
  compileManifests,
  MissingToolsDirError,
  type CompileManifestsOptions,
  type CompileManifestsResult,
} from "./compile-manifests.js";
export { generateFromServer, type GenerateFromServerOptions, type GenerateFromServerResult } from "./generate-from-server.js";
export { isToolwireRepository } from "./project-kind.js";
export type { ImportStyle } from "./tool-modules.js";
