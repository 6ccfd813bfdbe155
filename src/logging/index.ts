export { createLogger, type LoggerOptions } from "./create-logger.js";
export { isLogLevelName, logLevels, type LogLevelName } from "./log-levels.js";
export { createCallLogObserver, callLogLevel } from "./call-log-observer.js";
