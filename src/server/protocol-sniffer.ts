import type { Server as NetServer, Socket } from "node:net";
import { createServer as createNetServer } from "node:net";

const http2Preface = Buffer.from("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n");

/** Where a sniffed connection goes. */
export interface SniffTargets {
  /** Receives HTTP/1.x connections (a node:http server). */
  readonly http1: { emit(event: "connection", socket: Socket): boolean };
  /** Receives HTTP/2 prior-knowledge connections (a node:http2 server). */
  readonly http2: { emit(event: "connection", socket: Socket): boolean };
  /** A connection that sends nothing for this long is closed (slow-loris guard), in ms. */
  readonly firstByteTimeoutMs: number;
}

/**
 * Creates a TCP server that serves HTTP/1.1 and cleartext HTTP/2 (prior knowledge) on one
 * port: it reads until the first bytes tell whether they are the HTTP/2 connection preface,
 * puts them back, and hands the socket to the matching server.
 */
export function createProtocolSniffer(targets: SniffTargets): NetServer {
  // node:http sets TCP_NODELAY on the sockets it accepts itself; ours come from this server.
  return createNetServer({ noDelay: true }, (socket) => {
    let buffered: Buffer = Buffer.alloc(0);
    socket.setTimeout(targets.firstByteTimeoutMs, () => socket.destroy());
    socket.on("error", onEarlyError);
    const onData = (chunk: Buffer) => {
      buffered = buffered.length === 0 ? chunk : Buffer.concat([buffered, chunk]);
      const n = Math.min(buffered.length, http2Preface.length);
      const isHttp2 = buffered.subarray(0, n).equals(http2Preface.subarray(0, n));
      if (isHttp2 && buffered.length < http2Preface.length) return;
      socket.off("data", onData);
      socket.off("error", onEarlyError);
      socket.setTimeout(0);
      socket.pause();
      socket.unshift(buffered);
      if (isHttp2) {
        // The HTTP/2 session reads the unshifted bytes itself; resuming would drop them.
        targets.http2.emit("connection", socket);
      } else {
        targets.http1.emit("connection", socket);
        socket.resume();
      }
    };
    socket.on("data", onData);
  });
}

function onEarlyError(): void {
  // A client that resets before saying anything needs no answer.
}
