/**
 * What the launcher runs, passed to it as JSON in argv[1]; the program's arguments follow as
 * arguments of their own, since Linux caps one argument at 128 KiB.
 */
export interface LaunchSpec {
  /** The file to run. */
  readonly command: string;
  /** Its argv[0]. */
  readonly argv0: string;
  /** Its environment (the launcher itself runs with an empty one, so NODE_OPTIONS cannot reach it). */
  readonly env: NodeJS.ProcessEnv;
  /** A cgroup v2 directory the launcher moves itself into before starting the program. */
  readonly cgroup?: string;
}

/** How the program ended, as the launcher reports it on fd 3. */
export type LaunchStatus =
  | { readonly code: number | null; readonly signal: string | null }
  | { readonly error: string; readonly message: string };

/**
 * Source of the launcher, run as `node -e <source> -- <spec JSON> <args…>` with the status pipe on fd 3.
 * It exists for three reasons: `unshare` cannot set the program's argv[0] (busybox applets need
 * it); inside a PID namespace the first process is init, which ignores SIGTERM without a handler
 * and cannot re-raise a signal to report it, so the program must be its child; and joining a
 * cgroup must happen before the program can fork, so nothing escapes between spawn and join.
 * The program stays in the launcher's process group, so group signals reach it directly; the
 * launcher ignores them and exits only when the program has ended.
 */
export const launcherSource = `
"use strict";
const { writeFileSync, writeSync } = require("node:fs");
const { spawn } = require("node:child_process");
const spec = JSON.parse(process.argv[1]);
const report = (status) => { try { writeSync(3, JSON.stringify(status) + "\\n"); } catch {} };
for (const sig of ["SIGTERM", "SIGINT", "SIGHUP"]) process.on(sig, () => {});
if (spec.cgroup !== undefined) {
  try { writeFileSync(spec.cgroup + "/cgroup.procs", "0"); }
  catch (err) { report({ error: "ECGROUP", message: "cannot join cgroup " + spec.cgroup + ": " + err.message }); process.exit(125); }
}
// fd 3 "ignore": the status pipe does not reach the program.
const child = spawn(spec.command, process.argv.slice(2), { argv0: spec.argv0, env: spec.env, stdio: ["inherit", "inherit", "inherit", "ignore"] });
child.once("error", (err) => { report({ error: err.code ?? "", message: err.message }); process.exit(127); });
child.once("exit", (code, signal) => { report({ code, signal }); process.exit(code ?? 128); });
`;

/** Parses the launcher's report, or undefined when it sent none (it was killed first). */
export function parseLaunchStatus(text: string): LaunchStatus | undefined {
  const line = text.split("\n").find((l) => l.trim() !== "");
  if (line === undefined) return undefined;
  try {
    return JSON.parse(line) as LaunchStatus;
  } catch {
    return undefined;
  }
}
