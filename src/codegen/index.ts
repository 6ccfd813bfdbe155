export { compileManifests, type CompileManifestsOptions, type CompileManifestsResult } from "./compile-manifests.js";
