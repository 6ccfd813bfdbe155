import { isatty } from "node:tty";
import { pino, type Logger } from "pino";
import { createRequire } from "node:module";
import type PinoPretty from "pino-pretty";

import { isLogLevelName, logLevels } from "./log-levels.js";

/** Options of {@link createLogger}. */
export interface LoggerOptions {
  /** Least severe level written (default "info"). */
  readonly level?: string | undefined;
  /**
   * Human-readable colored lines instead of JSON: true, false (default), or "auto" for pretty
   * only when the destination is a terminal.
   */
  readonly pretty?: boolean | "auto" | undefined;
  /** File descriptor written to: 1 (stdout, default) or 2 (stderr, when stdout carries a protocol). */
  readonly destination?: 1 | 2 | undefined;
}

/**
 * Header and field names whose values are credentials: pino replaces them wherever a log call
 * passes them, as a second line of defense behind log calls that never pass them at all.
 */
const credentialPaths = [
  "authorization",
  "headers.authorization",
  "*.headers.authorization",
  'headers["x-api-key"]',
  '*.headers["x-api-key"]',
  "apiKey",
  "*.apiKey",
  "token",
  "*.token",
  "password",
  "*.password",
];


/**
 * Creates the structured logger of the CLI and servers: JSON lines (pino) with credentials
 * redacted, or pretty lines (pino-pretty) for a person at a terminal. Throws on an unknown level
 * with the list of valid ones.
 */
export function createLogger(options: LoggerOptions = {}): Logger {
  const level = options.level ?? "info";
  if (!isLogLevelName(level)) throw new Error(`unknown log level "${level}"; use one of ${logLevels.join(", ")}`);
  const fd = options.destination ?? 1;
  const pretty = options.pretty === "auto" ? isatty(fd) : options.pretty === true;
  const settings = { level, redact: { paths: credentialPaths, censor: "[redacted]" } };
  if (pretty) {
    // Synchronous, in this thread: no worker thread to outlive the server, lines never reordered.
    // Required on demand: JSON logging (servers behind a collector) never loads it.
    const pinoPretty = createRequire(import.meta.url)("pino-pretty") as typeof PinoPretty;
    const stream = pinoPretty({
      destination: fd,
      sync: true,
      colorize: isatty(fd),
      translateTime: "SYS:HH:MM:ss.l",
      ignore: "pid,hostname",
    });
    return pino(settings, stream);
  }
  return pino(settings, pino.destination({ dest: fd, sync: false }));
}
