import { execFile } from "node:child_process";
import { constants } from "node:fs";
import { access, mkdir, readFile, rmdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";

/**
 * How the descendants of a program are kept within reach, strongest first:
 * - `pid-namespace`: the program runs in a PID namespace of its own (`unshare --pid`); when the
 *   namespace's first process ends, the kernel kills every process in it, setsid'd ones included.
 * - `cgroup`: the program runs in a cgroup v2 group of its own, and `cgroup.kill` ends all of it.
 * - `process-group`: the program leads a process group that is signalled as a whole; a descendant
 *   that calls setsid() or setpgid() leaves it and is not reached.
 */
export type ContainmentKind = "pid-namespace" | "cgroup" | "process-group";

/** The containment in use and what it needs. */
export type Containment =
  | { readonly kind: "pid-namespace"; readonly unshare: string; readonly flags: readonly string[] }
  | { readonly kind: "cgroup"; readonly parent: string }
  | { readonly kind: "process-group" };

const unshareCandidates = ["/usr/bin/unshare", "/bin/unshare"];
/**
 * unshare flag sets, tried in order: a plain PID namespace (root, or CAP_SYS_ADMIN), then an
 * unprivileged user namespace keeping the user's own id (util-linux 2.38+), then one mapping the
 * user to root inside it (older util-linux). `--kill-child` makes unshare's death end the namespace.
 */
const namespaceFlags: readonly (readonly string[])[] = [
  ["--pid", "--fork", "--kill-child"],
  ["--user", "--map-current-user", "--pid", "--fork", "--kill-child"],
  ["--user", "--map-root-user", "--pid", "--fork", "--kill-child"],
];
const probeTimeoutMs = 5_000;

let detected: Promise<Containment> | undefined;

/**
 * The strongest containment this host allows, found once per process by really trying each
 * (running node inside a namespace, moving node into a new cgroup) and cached.
 */
export function detectContainment(): Promise<Containment> {
  detected ??= probeContainment();
  return detected;
}

async function probeContainment(): Promise<Containment> {
  return (await probePidNamespace()) ?? (await probeCgroup()) ?? { kind: "process-group" };
}

/** PID-namespace containment when unshare can make one here (tried for real), else undefined. */
export async function probePidNamespace(): Promise<Containment | undefined> {
  if (process.platform !== "linux") return undefined;
  const unshare = await firstExecutable(unshareCandidates);
  if (unshare === undefined) return undefined;
  for (const flags of namespaceFlags) {
    // Inside its own PID namespace the first process has pid 1.
    if (await succeeds(unshare, [...flags, "--", process.execPath, "-e", "process.exit(process.pid === 1 ? 0 : 3)"])) {
      return { kind: "pid-namespace", unshare, flags };
    }
  }
  return undefined;
}

/** cgroup containment when a delegated cgroup v2 group is writable here (tried for real), else undefined. */
export async function probeCgroup(): Promise<Containment | undefined> {
  if (process.platform !== "linux") return undefined;
  const parent = await delegatedCgroup();
  return parent === undefined ? undefined : { kind: "cgroup", parent };
}

/**
 * Our own cgroup v2 directory when we may create groups below it and move processes into them
 * (tried with a throw-away group), or undefined.
 */
async function delegatedCgroup(): Promise<string | undefined> {
  try {
    const own = (await readFile("/proc/self/cgroup", "utf8")).split("\n").find((line) => line.startsWith("0::"));
    const mount = (await readFile("/proc/self/mountinfo", "utf8"))
      .split("\n")
      .map((line) => line.split(" "))
      .find((fields) => fields[fields.indexOf("-") + 1] === "cgroup2")?.[4];
    if (own === undefined || mount === undefined) return undefined;
    const dir = join(mount, own.slice(3));
    const probe = await createRunCgroup(dir);
    try {
      // cgroup.kill needs Linux 5.14; the root group has none, so look in the new one.
      await access(join(probe.path, "cgroup.kill"), constants.W_OK);
      const joined = await succeeds(process.execPath, ["-e", `require("fs").writeFileSync(${JSON.stringify(join(probe.path, "cgroup.procs"))}, "0")`]);
      return joined ? dir : undefined;
    } finally {
      await probe.remove();
    }
  } catch {
    return undefined;
  }
}

/** A cgroup made for one program. */
export interface RunCgroup {
  /** Its directory. */
  readonly path: string;
  /** Kills every process in it. */
  kill(): Promise<void>;
  /** Removes it once it is empty (waiting briefly for the kernel to reap); errors are ignored. */
  remove(): Promise<void>;
}

let cgroupCount = 0;

/** Creates an empty cgroup below `parent` for one program. */
export async function createRunCgroup(parent: string): Promise<RunCgroup> {
  const path = join(parent, `toolwire-${process.pid}-${++cgroupCount}`);
  await mkdir(path);
  return {
    path,
    async kill() {
      await writeFile(join(path, "cgroup.kill"), "1").catch(() => undefined);
    },
    async remove() {
      for (let attempt = 0; attempt < 40; attempt++) {
        try {
          await rmdir(path);
          return;
        } catch (err) {
          const code = (err as NodeJS.ErrnoException).code;
          if (code === "ENOENT") return;
          // EBUSY: killed processes are not reaped yet.
          await sleep(50);
        }
      }
    },
  };
}

async function firstExecutable(paths: readonly string[]): Promise<string | undefined> {
  for (const path of paths) {
    try {
      await access(path, constants.X_OK);
      return path;
    } catch {
      // Try the next.
    }
  }
  return undefined;
}

function succeeds(file: string, args: readonly string[]): Promise<boolean> {
  return new Promise((resolve) => {
    execFile(file, args, { env: {}, timeout: probeTimeoutMs, killSignal: "SIGKILL" }, (err) => resolve(err === null));
  });
}
