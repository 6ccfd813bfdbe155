/** Levels a logger accepts, most severe first, and "silent". */
export const logLevels = ["fatal", "error", "warn", "info", "debug", "trace", "silent"] as const;

/** A log level name. */
export type LogLevelName = (typeof logLevels)[number];

/** Whether `value` is a log level name. */
export function isLogLevelName(value: string): value is LogLevelName {
  return (logLevels as readonly string[]).includes(value);
}
