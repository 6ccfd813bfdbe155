import type { Socket } from "node:net";

/**
 * Makes the server's side of a connection close only after the peer has closed its side, or
 * after `waitMs`, whichever comes first.
 *
 * node ends an HTTP/2 connection (sends its FIN) the moment a closed session's last stream is
 * done. The peer may still owe a frame then: nginx, having read a gRPC response's trailers
 * together with a PING, first sends the PING's acknowledgement (or, past a flow-control
 * threshold, a WINDOW_UPDATE) and only then finishes the call; a FIN arriving in between makes it
 * fail a call that was answered in full ("upstream prematurely closed connection"). Peers close a
 * connection that was sent GOAWAY once their last response is in, so the wait is usually over at
 * once; a peer that stays silent (or one whose session is destroyed on a protocol error while it
 * keeps the connection open) is closed after `waitMs`.
 */
export function finAfterPeer(socket: Socket, waitMs: number): void {
  const end = socket.end;
  socket.end = function endAfterPeer(this: Socket, ...args: unknown[]): Socket {
    if (socket.readableEnded || socket.destroyed) return Reflect.apply(end, socket, args) as Socket;
    const timer = setTimeout(go, waitMs);
    // Only the shutdown of this one connection waits on it, never the process.
    timer.unref();
    socket.once("end", go);
    socket.once("close", go);
    function go(): void {
      clearTimeout(timer);
      socket.off("end", go);
      socket.off("close", go);
      // Closed meanwhile: there is nothing left to end.
      if (!socket.destroyed) Reflect.apply(end, socket, args);
    }
    return socket;
  } as Socket["end"];
}
