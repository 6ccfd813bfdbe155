import { Code, ConnectError } from "@connectrpc/connect";
import type { CommanderError } from "commander";
import { codeName } from "../runtime/code-name.js";
import { isConnectionFailure } from "../client/transient-error.js";

/** The exit codes of every toolwire command, so scripts can branch on what happened. */
export const exitCodes = {
  /** It worked. */
  ok: 0,
  /** The tool ran and reported an error (an isError result), or the command itself failed. */
  failed: 1,
  /** Bad usage: an unknown option, a missing or malformed argument. */
  usage: 2,
  /** The server refused or failed the call with a Connect error (not_found, permission_denied, …). */
  refused: 3,
  /** The server could not be reached, or answered unavailable. */
  unreachable: 4,
  /** Interrupted by Ctrl-C (SIGINT), as shells report it. */
  interrupted: 130,
  /** Stopped by SIGTERM, as shells report it. */
  terminated: 143,
} as const;

/** One of {@link exitCodes}. */
export type ExitCode = (typeof exitCodes)[keyof typeof exitCodes];

/** The exit codes as `--help` and the README describe them. */
export const exitCodesHelp = [
  "Exit codes:",
  "  0    ok",
  "  1    the tool ran and reported an error (isError), or the command failed",
  "  2    bad usage (unknown option, bad argument)",
  "  3    the server refused the call (a Connect error: `<code>: <message>` on stderr)",
  "  4    cannot reach the server (connection failed, or it answered unavailable)",
  "  130  interrupted by Ctrl-C (143: SIGTERM), the call cancelled on the server (watch exits 0)",
].join("\n");

/**
 * A command ending with an exit code and a one-line reason for stderr. Thrown inside an action
 * wrapped by {@link cliAction}, which prints it; identity (instanceof) is what marks it.
 */
export class CliExit extends Error {
  override name = "CliExit";
  constructor(
    /** The process exit code. */
    readonly exitCode: ExitCode,
    message: string,
  ) {
    super(message);
  }
}

/** A bad-usage exit (code 2) with a reason. */
export function usageError(message: string): CliExit {
  return new CliExit(exitCodes.usage, message);
}

/**
 * The exit a failed RPC means: 4 when the server could not be reached (or answered unavailable),
 * 3 for any other Connect error, with `<code>: <message>` as the reason.
 */
export function exitForRpcError(err: unknown, url: string): CliExit {
  const ce = ConnectError.from(err);
  if (isConnectionFailure(err)) return new CliExit(exitCodes.unreachable, `cannot reach the server at ${url}: ${oneLine(ce.rawMessage)}`);
  // The server answered, but is draining or overloaded: as good as unreachable for this call.
  const exitCode = ce.code === Code.Unavailable ? exitCodes.unreachable : exitCodes.refused;
  return new CliExit(exitCode, `${codeName(ce.code)}: ${oneLine(ce.rawMessage)}`);
}

/** Collapses a message to one line: the reason a command prints is always a single line. */
export function oneLine(text: string): string {
  return text
    .replace(/:\s*\n\s*/g, ": ")
    .replace(/\s*\n\s*/g, "; ")
    .trim();
}

/**
 * Wraps a command action: a {@link CliExit} prints `toolwire <command>: <reason>` and sets its
 * exit code; anything else unexpected prints its message (never a stack trace) and exits 1.
 */
export function cliAction<A extends unknown[]>(command: string, action: (...args: A) => Promise<void>): (...args: A) => Promise<void> {
  return async (...args: A) => {
    try {
      await action(...args);
    } catch (err) {
      const exit = err instanceof CliExit ? err : new CliExit(exitCodes.failed, err instanceof Error ? err.message : String(err));
      process.stderr.write(`toolwire ${command}: ${oneLine(exit.message)}\n`);
      process.exitCode = exit.exitCode;
    }
  };
}

/** Commander's own exits that are not usage errors, with the code commander chose. */
const commanderKeeps = new Set(["commander.helpDisplayed", "commander.version", "commander.executeSubCommandAsync", "commander.error"]);

/**
 * commander's exitOverride: its parse errors (unknown option, missing argument, bad choice,
 * unknown command, no command at all) exit 2 as documented, instead of commander's 1. Errors a
 * command raises itself with `program.error()` keep their own code.
 */
export function exitOnCommanderError(err: CommanderError): never {
  process.exit(commanderKeeps.has(err.code) ? err.exitCode : exitCodes.usage);
}
