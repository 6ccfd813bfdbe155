import { ConnectError, type Interceptor } from "@connectrpc/connect";
import { codeName } from "../runtime/code-name.js";

/**
 * Where the client logs: any logger with pino's `(fields, message)` methods, pino itself
 * included.
 */
export interface ClientLogger {
  /** Every call as it ends. */
  debug(fields: object, message: string): void;
  /** Connection changes (event stream connected, circuit closed). */
  info(fields: object, message: string): void;
  /** Retries, reconnects, circuits opening. */
  warn(fields: object, message: string): void;
  /** Failures the caller may not see otherwise (an event listener that threw). */
  error(fields: object, message: string): void;
}

/**
 * Logs every RPC once, when it ends: method, outcome code and duration (streams when they finish).
 * Arguments and credentials are never logged.
 */
export function createLoggingInterceptor(logger: ClientLogger): Interceptor {
  return (next) => async (req) => {
    const started = performance.now();
    const method = `${req.service.typeName}/${req.method.name}`;
    const log = (error: unknown) => {
      const durationMs = Math.round((performance.now() - started) * 10) / 10;
      if (error === undefined) logger.debug({ method, code: "ok", durationMs }, "call ended");
      else {
        const ce = ConnectError.from(error);
        logger.debug({ method, code: codeName(ce.code), durationMs, error: ce.rawMessage }, "call failed");
      }
    };
    let res;
    try {
      res = await next(req);
    } catch (err) {
      log(err);
      throw err;
    }
    if (!res.stream) {
      log(undefined);
      return res;
    }
    const messages = res.message;
    return {
      ...res,
      message: (async function* () {
        try {
          yield* messages;
          log(undefined);
        } catch (err) {
          log(err);
          throw err;
        }
      })(),
    };
  };
}
