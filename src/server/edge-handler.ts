import type { Logger } from "pino";
import type { EdgeDecorator, EdgeGuard } from "./edge-guards.js";
import { pathOf } from "./edge-guards.js";
import { limitBodyTime } from "./body-timeout.js";
import type { InFlight } from "./in-flight.js";
import { resetRequest, writeRefusal, type EdgeRequest, type EdgeResponse, type Refusal } from "./refusal.js";

/** Answers a request that passed the edge; resolves (or rejects) once the answer is written. */
export type EdgeRoute = (req: EdgeRequest, res: EdgeResponse) => void | Promise<void>;

/** Options of {@link createEdgeHandler}. */
export interface EdgeHandlerOptions {
  /** Checks run in order before a request is admitted; the first refusal is the answer. */
  readonly guards: readonly EdgeGuard[];
  /** Response headers added to admitted requests. */
  readonly decorators: readonly EdgeDecorator[];
  /** Counts admitted requests until their answer is written or their connection closes. */
  readonly inFlight: InFlight;
  /** Longest an admitted request may take to deliver its body, in ms. */
  readonly requestBodyTimeoutMs: number;
  /** Serves admitted requests. */
  readonly route: EdgeRoute;
  /** Where failures are logged. */
  readonly logger: Logger;
}

const failed: Refusal = { status: 500, code: "internal", message: "the server failed to answer this request; its log has the details" };

/**
 * Creates the request listener of the HTTP/1.1 and HTTP/2 servers: guards, then admission,
 * then the route. It is the one place where an exception on a request path ends: thrown or
 * rejected, it is logged and answered 500 internal (or the request is cut when an answer is
 * already under way), and never reaches the process.
 */
export function createEdgeHandler(options: EdgeHandlerOptions): (req: EdgeRequest, res: EdgeResponse) => void {
  const { guards, decorators, inFlight, logger } = options;
  const fail = (req: EdgeRequest, res: EdgeResponse, err: unknown) => {
    if (clientWentAway(req, res)) {
      // Reading a body the client stopped sending fails; nobody is left to answer, nothing broke.
      logger.debug({ err, method: req.method, path: pathOf(req.url) }, "client went away");
      return;
    }
    logger.error({ err, method: req.method, path: pathOf(req.url) }, "request failed");
    try {
      if (res.headersSent || res.writableEnded) resetRequest(req);
      else writeRefusal(req, res, failed);
    } catch (second) {
      logger.error({ err: second }, "could not answer a failed request");
      req.socket?.destroy();
    }
  };
  return (req, res) => {
    try {
      for (const guard of guards) {
        const refusal = guard(req);
        if (refusal !== undefined) {
          writeRefusal(req, res, refusal);
          return;
        }
      }
      res.once("close", inFlight.enter());
      limitBodyTime(req, res, options.requestBodyTimeoutMs);
      for (const decorate of decorators) {
        const headers = decorate(req);
        if (headers !== undefined) addHeaders(res, headers);
      }
      const done = options.route(req, res);
      if (done !== undefined) done.catch((err: unknown) => fail(req, res, err));
    } catch (err) {
      fail(req, res, err);
    }
  };
}

/** Whether the client closed the request (or its connection) before the answer was written. */
function clientWentAway(req: EdgeRequest, res: EdgeResponse): boolean {
  return !res.writableEnded && (res.destroyed || req.socket?.destroyed === true || ("stream" in req && req.stream.destroyed));
}

/** Sets response headers, adding to a Vary header another decorator set rather than replacing it. */
function addHeaders(res: EdgeResponse, headers: Readonly<Record<string, string>>): void {
  for (const [name, value] of Object.entries(headers)) {
    const existing = name === "vary" ? res.getHeader("vary") : undefined;
    res.setHeader(name, existing === undefined ? value : `${String(existing)}, ${value}`);
  }
}
