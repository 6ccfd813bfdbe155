export { createLogger, isLogLevelName, logLevels, type LoggerOptions, type LogLevelName } from "./create-logger.js";
export { createCallLogObserver, callLogLevel } from "./call-log-observer.js";
