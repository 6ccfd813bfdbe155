#!/usr/bin/env node
// The toolwire command. Sources are TypeScript, run through tsx's loader (the same loader
// plugins use), so no build step stands between an edit and a run.
import { register } from "tsx/esm/api";

register();
await import("./main.ts");
