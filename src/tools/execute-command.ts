import { constants } from "node:fs";
import { access, realpath, stat } from "node:fs/promises";
import { basename, delimiter, resolve } from "node:path";
import { executeCommandTool, type ExecuteCommandOutput } from "../../gen/tools/execute_command.js";
import { textContent } from "../registry/content.js";
import { defineTool } from "../registry/define-tool.js";
import { ToolError, toolResult, type ToolResult } from "../registry/tool-result.js";
import type { Containment, ContainmentKind } from "./process-containment.js";
import { capOutput } from "./response-cap.js";
import { runProcess, type ProcessOutcome } from "./run-process.js";

/**
 * Programs `execute_command` refuses, by base name: shells (running one would undo "no shell"),
 * multi-call binaries that contain a shell, privilege and system-administration programs, and
 * wrappers that run another program and so would slip past this list. Names starting with `mkfs`,
 * `busybox` or `toybox` and dynamic loaders (`ld.so`, `ld-linux-x86-64.so.2`, …, see
 * {@link isDynamicLoader}) are refused as well. The list applies both to the name the caller gives
 * and to the base name of the file that name really is (symbolic links resolved).
 *
 * This list is a guard against accidents, not a sandbox. Interpreters (node, python, perl, awk,
 * find -exec, …) are deliberately not on it and can run anything, a shell included; a renamed
 * copy of a shell, or a script whose `#!` line names one, is not recognised either. The security
 * boundary is the tool's `restricted` level plus explicit grants, and running Toolwire as an
 * unprivileged user.
 */
export const deniedPrograms: ReadonlySet<string> = new Set([
  // Shells, and multi-call binaries that contain one.
  "sh", "bash", "dash", "zsh", "ksh", "csh", "tcsh", "fish", "ash", "hush", "mksh", "lksh", "pdksh", "oksh", "loksh",
  "posh", "yash", "rbash", "sash", "elvish", "xonsh", "pwsh", "busybox", "toybox",
  // Privilege and system administration.
  "sudo", "sudoedit", "su", "doas", "pkexec", "runuser", "rm", "dd", "fdisk", "shutdown", "reboot", "halt", "poweroff",
  "init", "systemctl", "kill", "killall", "pkill", "chmod", "chown", "mount", "umount",
  // Wrappers that run another program.
  "env", "nohup", "nice", "timeout", "xargs", "setsid", "stdbuf", "ionice", "chrt", "taskset", "chroot",
  "nsenter", "unshare", "script", "watch", "flock", "setpriv", "capsh", "runcon", "sg", "newgrp", "setarch",
  "linux32", "linux64", "prlimit", "systemd-run", "start-stop-daemon", "run-parts", "gosu", "su-exec", "chpst",
  "setuidgid", "envuidgid", "envdir", "softlimit", "fakeroot", "strace", "ltrace", "choom", "ssh-agent", "uclampset",
  "dbus-run-session", "dbus-launch", "valgrind", "gdb", "lldb", "rr", "perf", "time", "numactl", "cgexec", "bwrap",
  "firejail", "systemd-nspawn", "faketime", "eatmydata", "torsocks", "proxychains", "catchsegv",
  // Signalling and re-prioritising other processes (procps' kill family).
  "skill", "snice",
]);

/** What the handler returns: plain output, or an error result carrying it after a timeout. */
type CommandResult = ExecuteCommandOutput | ToolResult<ExecuteCommandOutput>;

/**
 * Environment variables passed on to programs; the server's others are not. This is hygiene (a
 * program does not pick up the server's configuration by accident), not protection: a program
 * runs as the server's user and can read the server's environment from /proc/<ppid>/environ.
 */
const passedEnv = ["PATH", "HOME", "USER", "LOGNAME", "LANG", "LANGUAGE", "TZ", "TMPDIR", "TEMP", "TMP", "SYSTEMROOT"];

/** Options of {@link createExecuteCommand}, from `tools.executeCommand` in the config. */
export interface ExecuteCommandOptions {
  /**
   * Program names that alone may run, matched against the base name of the command given and of
   * the file it really is (a multi-call binary is judged by the name given); the deny-list still
   * applies. Every program the deny-list lets through when absent.
   */
  readonly allowCommands?: readonly string[];
  /**
   * Most bytes stdout and stderr together may take in a JSON response, escaping included and
   * counted twice, since the output travels as structured content and again as JSON text
   * (default 1 MiB).
   */
  readonly maxResponseBytes?: number;
  /** How descendants are contained; the strongest the host allows when absent (tests force one). */
  readonly containment?: Containment;
}

/** Default of {@link ExecuteCommandOptions.maxResponseBytes}. */
export const defaultMaxResponseBytes = 1024 * 1024;

/**
 * Creates the `execute_command` tool: runs a program without a shell, refusing the programs in
 * {@link deniedPrograms} (and, with `allowCommands`, any not listed) by the name given and by
 * the name of the file it really is, and kills everything it started on timeout, on cancel and
 * when it exits, as far as the host's containment reaches (see {@link Containment}). A timeout
 * is an error result that still carries the output collected so far.
 */
export function createExecuteCommand(options: ExecuteCommandOptions = {}) {
  const allowed = options.allowCommands === undefined ? undefined : new Set(options.allowCommands);
  const maxResponseBytes = options.maxResponseBytes ?? defaultMaxResponseBytes;
  return defineTool(executeCommandTool, async (input, ctx): Promise<CommandResult> => {
    const given = deniedName(input.command);
    if (given !== undefined) throw new ToolError(`"${given}" is not allowed: ${refusal}`);
    if (allowed !== undefined && !allowed.has(basename(input.command))) {
      throw new ToolError(`"${basename(input.command)}" is not allowed: ${allowListSetting} does not list it`);
    }
    const cwd = input.cwd === undefined ? undefined : await directory(input.cwd);
    const env = childEnv();
    // The file spawn would run, symbolic links resolved, so a link or a loader cannot hide a shell.
    const program = await resolveProgram(input.command, cwd ?? process.cwd(), env.PATH);
    if (program.kind === "missing") throw new ToolError(`program not found: ${input.command}`);
    if (program.kind === "not-executable") throw new ToolError(`permission denied: ${input.command} is not executable`);
    const real = deniedName(program.path, true);
    if (real !== undefined) {
      throw new ToolError(`"${basename(input.command)}" is not allowed: it is ${program.path} ("${real}"), and ${refusal}`);
    }
    const realName = basename(program.path);
    if (allowed !== undefined && !allowed.has(realName) && !isMultiCall(realName)) {
      throw new ToolError(`"${basename(input.command)}" is not allowed: it is ${program.path} ("${realName}"), which ${allowListSetting} does not list`);
    }
    ctx.signal.throwIfAborted();
    const timeoutMs = input.timeoutMs ?? 10000;

    let outcome: ProcessOutcome;
    try {
      outcome = await runProcess({
        // Run the very file that was checked, under the name the caller gave it.
        command: program.path,
        argv0: input.command,
        args: input.args ?? [],
        cwd,
        env,
        stdin: input.stdin,
        timeoutMs,
        maxOutputBytes: input.maxOutputBytes ?? 65536,
        signal: ctx.signal,
        ...(options.containment === undefined ? {} : { containment: options.containment }),
      });
    } catch (err) {
      throw new ToolError(spawnFailure(input.command, err));
    }
    if (outcome.aborted) throw ctx.signal.reason;

    const output = commandOutput(outcome, maxResponseBytes);
    if (!outcome.timedOut) return output;
    return toolResult({
      structuredContent: output,
      // Text-only clients see the partial output too, not just the verdict.
      content: [
        textContent(`${input.command} timed out after ${timeoutMs} ms; ${killedWhat[outcome.containment]} was killed.\n${JSON.stringify(output)}`),
      ],
      isError: true,
    });
  });
}

/** The `execute_command` tool with the default options. */
export const executeCommand = createExecuteCommand();

const allowListSetting = "the allow-list (tools.executeCommand.allowCommands)";

const killedWhat: Readonly<Record<ContainmentKind, string>> = {
  "pid-namespace": "its PID namespace",
  cgroup: "its cgroup",
  "process-group": "its process group",
};

/** The tool's output: the outcome with stdout and stderr fitted into the response budget. */
function commandOutput(outcome: ProcessOutcome, maxResponseBytes: number): ExecuteCommandOutput {
  const { aborted: _aborted, ...rest } = outcome;
  const capped = capOutput(rest.stdout, rest.stderr, maxResponseBytes);
  const cut = capped.stdoutCut || capped.stderrCut;
  const stdoutTruncated = rest.stdoutTruncated || capped.stdoutCut;
  const stderrTruncated = rest.stderrTruncated || capped.stderrCut;
  return {
    ...rest,
    stdout: capped.stdout,
    stderr: capped.stderr,
    stdoutTruncated,
    stderrTruncated,
    truncated: stdoutTruncated || stderrTruncated,
    ...(cut
      ? { note: `output cut to fit the response limit of ${maxResponseBytes} bytes for stdout and stderr together (tools.executeCommand.maxResponseBytes)` }
      : {}),
  };
}

const refusal =
  "shells, dynamic loaders, privilege and system-administration programs, and programs that run other programs are refused " +
  "(a guard against accidents, not a sandbox)";

/**
 * The denied name `path`'s base name stands for, or undefined when it is allowed. With
 * `multiCallAllowed`, a multi-call binary (busybox, toybox) is allowed: reached through a link
 * such as Alpine's /bin/ls, it runs the applet named by argv[0], which is the name the caller
 * gave and which has passed this check already.
 */
function deniedName(path: string, multiCallAllowed = false): string | undefined {
  // Case-folded and without Windows extensions so SH or bash.exe do not slip through.
  const name = basename(path).toLowerCase().replace(/\.(exe|com|cmd|bat)$/, "");
  if (name.startsWith("mkfs") || isDynamicLoader(name)) return name;
  // busybox treats any argv[0] starting with "busybox" as itself, toybox likewise.
  if (multiCallPrefixes.some((prefix) => name.startsWith(prefix))) return multiCallAllowed ? undefined : name;
  if (deniedPrograms.has(name)) return name;
  // Versioned and static builds: ksh93, bash-static, zsh-5.9.
  const unversioned = name.replace(/(?:[-_.]?(?:static|\d+(?:\.\d+)*))+$/, "");
  if (unversioned !== "" && deniedPrograms.has(unversioned)) return unversioned;
  return undefined;
}

/** Multi-call binaries, which run the applet their argv[0] names, or the one in argv[1]. */
const multiCallPrefixes = ["busybox", "toybox"];

function isMultiCall(name: string): boolean {
  return multiCallPrefixes.some((prefix) => name.toLowerCase().startsWith(prefix));
}

/**
 * Whether `name` is a dynamic loader, which runs any program given as its argument:
 * ld.so, ld-linux-x86-64.so.2, ld-linux-aarch64.so.1, ld-musl-x86_64.so.1, ld-2.31.so, …
 */
export function isDynamicLoader(name: string): boolean {
  return /^ld(?:-[^/]*)?\.so(?:\.|$)/.test(name);
}

/** What a program name or path stands for, found the way spawn finds it. */
type ResolvedProgram =
  | { readonly kind: "found"; readonly path: string }
  | { readonly kind: "missing" }
  | { readonly kind: "not-executable" };

/**
 * Finds the file spawn would run for `command` and returns its real path (every symbolic link
 * resolved). A command with a slash is a path relative to the working directory; a bare name is
 * looked up on the child's PATH like libuv's execvpe does: the first executable regular file
 * wins, an empty entry means the working directory, and PATH defaults to /usr/bin:/bin.
 */
async function resolveProgram(command: string, cwd: string, path: string | undefined): Promise<ResolvedProgram> {
  if (command.includes("/")) {
    try {
      return { kind: "found", path: await realpath(resolve(cwd, command)) };
    } catch {
      return { kind: "missing" };
    }
  }
  let sawNonExecutable = false;
  for (const dir of (path ?? "/usr/bin:/bin").split(delimiter)) {
    const candidate = resolve(cwd, dir, command);
    try {
      if (!(await stat(candidate)).isFile()) continue;
    } catch {
      continue;
    }
    try {
      await access(candidate, constants.X_OK);
    } catch {
      sawNonExecutable = true;
      continue;
    }
    try {
      return { kind: "found", path: await realpath(candidate) };
    } catch {
      continue;
    }
  }
  return sawNonExecutable ? { kind: "not-executable" } : { kind: "missing" };
}

async function directory(path: string): Promise<string> {
  const absolute = resolve(path);
  let isDirectory = false;
  try {
    isDirectory = (await stat(absolute)).isDirectory();
  } catch {
    throw new ToolError(`working directory ${path} does not exist`);
  }
  if (!isDirectory) throw new ToolError(`working directory ${path} is not a directory`);
  return absolute;
}

function childEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (value !== undefined && (passedEnv.includes(key) || key.startsWith("LC_"))) env[key] = value;
  }
  return env;
}

function spawnFailure(command: string, err: unknown): string {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  switch (code) {
    case "ENOENT":
      return `program not found: ${command}`;
    case "EACCES":
      return `permission denied: ${command} is not executable`;
    default:
      return `cannot start ${command}: ${err instanceof Error ? err.message : String(err)}`;
  }
}
