#!/usr/bin/env node
// The `toolwire` bin. Node 22.1 and newer keep compiled code of the modules it loads in a disk
// cache, so later starts skip most of that work; the cache has to be on before they load.
import * as nodeModule from "node:module";

(nodeModule as { enableCompileCache?: () => unknown }).enableCompileCache?.();
await import("./program.js");
