import { constants as h2 } from "node:http2";
import { writeRefusal, type EdgeRequest, type EdgeResponse, type Refusal } from "./refusal.js";

/**
 * Gives a request `timeoutMs` to deliver its whole body. A client that trickles its body (one
 * byte every few seconds) would otherwise hold a stream or connection, and the memory behind
 * it, for as long as it likes. Past the limit the request is answered deadline_exceeded (HTTP
 * 408) and its stream or connection is closed; an answer already under way is cut instead.
 */
export function limitBodyTime(req: EdgeRequest, res: EdgeResponse, timeoutMs: number): void {
  if (req.complete) return;
  const refusal: Refusal = {
    status: 408,
    code: "deadline_exceeded",
    message: `the request body did not arrive within ${timeoutMs} ms (limits.requestBodyTimeoutMs); send it at once`,
    closeConnection: true,
  };
  const timer = setTimeout(() => {
    if (req.complete || res.writableEnded) return;
    writeRefusal(req, res, refusal);
    // Nothing more of this body will be read; stop the upload rather than drain it.
    if ("stream" in req) req.stream.close(h2.NGHTTP2_NO_ERROR);
    else res.once("finish", () => endSoon(req.socket));
  }, timeoutMs);
  timer.unref();
  const clear = () => clearTimeout(timer);
  req.once("end", clear);
  res.once("close", clear);
}

/** Ends a connection once its last bytes are out, and cuts it if the peer keeps it open. */
function endSoon(socket: EdgeRequest["socket"]): void {
  socket.end();
  setTimeout(() => socket.destroy(), 1_000).unref();
}
