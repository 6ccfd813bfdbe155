import type { Http2Session, Http2Stream } from "node:http2";
import type { Socket } from "node:net";
import { createInFlight, waitAtMost } from "./in-flight.js";
import type { EdgeRequest } from "./refusal.js";

/** Options of {@link createConnectionLifecycle}. */
export interface ConnectionLifecycleOptions {
  /** HTTP/2 sessions with no traffic for this long are closed gracefully, in ms. */
  readonly idleTimeoutMs: number;
  /** Connections served at once; requests on connections past this are refused (see {@link ConnectionLifecycle.isOverCap}). */
  readonly maxConnections: number;
}

/** The server's open connections and HTTP/2 sessions, from accept to shutdown. */
export interface ConnectionLifecycle {
  /** Connections open now. */
  readonly size: number;
  /** Tracks an accepted connection until it closes. */
  track(socket: Socket): void;
  /** Tracks an HTTP/2 session (idle timeout, retirement at shutdown). */
  trackSession(session: Http2Session): void;
  /** Whether the request came on a connection accepted while the server was at its connection cap. */
  isOverCap(req: EdgeRequest): boolean;
  /**
   * Retires every HTTP/2 session, now and any that starts later, without losing a request its
   * client may be sending (see {@link retireSession}); resolves once the final GOAWAYs are out.
   */
  retireSessions(): Promise<void>;
  /** Closes every HTTP/2 session gracefully (open streams finish). */
  closeSessions(): void;
  /** Waits up to `waitMs` for connections to close by themselves, then cuts those still open. */
  closeSockets(waitMs: number): Promise<void>;
}

/** Creates the connection lifecycle of one server. */
export function createConnectionLifecycle(options: ConnectionLifecycleOptions): ConnectionLifecycle {
  const sockets = new Set<Socket>();
  const open = createInFlight();
  const sessions = new Set<Http2Session>();
  // Requests (streams) not yet closed on each session, which decide how it is retired.
  const openStreams = new WeakMap<Http2Session, Set<Http2Stream>>();
  const overCapSockets = new WeakSet<Socket>();
  const overCapSessions = new WeakSet<Http2Session>();
  const retirements = new Set<Promise<void>>();
  let retiring = false;
  const retire = (session: Http2Session) => {
    retirements.add(retireSession(session, openStreams.get(session) ?? new Set(), retireFallbackMs));
  };
  return {
    get size() {
      return sockets.size;
    },
    track(socket) {
      sockets.add(socket);
      if (sockets.size > options.maxConnections) overCapSockets.add(socket);
      const leave = open.enter();
      socket.once("close", () => {
        sockets.delete(socket);
        leave();
      });
    },
    trackSession(session) {
      sessions.add(session);
      session.once("close", () => sessions.delete(session));
      // The session's socket is the one the listener accepted (its Proxy is no WeakSet key).
      if (sockets.size > options.maxConnections) overCapSessions.add(session);
      const streams = new Set<Http2Stream>();
      openStreams.set(session, streams);
      session.on("stream", (stream: Http2Stream) => {
        streams.add(stream);
        stream.once("close", () => streams.delete(stream));
      });
      session.setTimeout(options.idleTimeoutMs, () => session.close());
      // A connection accepted just before the port closed may start its session during the drain.
      if (retiring) retire(session);
    },
    isOverCap(req) {
      return "stream" in req ? overCapSessions.has(req.stream.session as Http2Session) : overCapSockets.has(req.socket);
    },
    async retireSessions() {
      retiring = true;
      for (const session of sessions) retire(session);
      await Promise.all(retirements);
    },
    closeSessions() {
      for (const session of sessions) session.close();
    },
    async closeSockets(waitMs) {
      await waitAtMost(open.idle(), waitMs);
      for (const socket of sockets) socket.destroy();
    },
  };
}

/**
 * Longest a draining server spends retiring one idle HTTP/2 connection, in ms: waiting for its
 * last responses to finish and for the peer to answer the PING {@link retireSession} sends. After
 * that the final GOAWAY goes out anyway (a peer that neither answers nor closes in this time is
 * not sending anything either).
 */
const retireFallbackMs = 1_000;

/**
 * Retires an HTTP/2 session during shutdown without losing a request its client may be sending,
 * and resolves once the final GOAWAY is out or the session is gone. The connection itself closes
 * once the peer has closed its side (see {@link finAfterPeer}).
 *
 * Node cannot send the "please go away" GOAWAY gRPC servers use (last stream id 2^31-1): once any
 * GOAWAY is sent, nghttp2 silently ignores every new stream, which then hangs. And nginx's
 * grpc_pass, which sends one request per upstream connection at a time and cannot resend one, takes
 * a GOAWAY naming a lower stream than its request as a failed request. So a GOAWAY goes out only
 * when nginx cannot be sending a request on the connection:
 * - while a response is not ended: the GOAWAY is queued ahead of its end, so nginx reads it during
 *   that request and does not reuse the connection;
 * - when a request arrives: it is served, and the GOAWAY names it;
 * - when the connection is idle (its last response out), only after two PINGs answered in a row
 *   with no request between them: nginx closes an idle pooled connection as soon as anything
 *   arrives on it, and a request it sent before reading a PING arrives ahead of its answer. nginx
 *   also answers a PING that arrives with the end of a response and may then reuse the connection;
 *   the second PING then either closes it or follows that request. Other clients answer both.
 */
function retireSession(session: Http2Session, openStreams: ReadonlySet<Http2Stream>, fallbackMs: number): Promise<void> {
  return new Promise((resolve) => {
    if (session.closed || session.destroyed) {
      resolve();
      return;
    }
    const watched = new Set<Http2Stream>();
    let pings = 0;
    let done = false;
    const goAway = () => {
      done = true;
      clearTimeout(timer);
      session.off("stream", goAway);
      session.off("close", goAway);
      for (const stream of watched) stream.off("close", next);
      if (!session.closed && !session.destroyed) session.close();
      resolve();
    };
    const next = () => {
      if (session.closed || session.destroyed) return goAway();
      const streams = [...openStreams];
      if (streams.some((stream) => !stream.writableEnded)) return goAway();
      if (streams.length > 0) {
        // Ended responses may already be out: wait until they are before the PING.
        for (const stream of streams) {
          if (watched.has(stream)) continue;
          watched.add(stream);
          stream.once("close", next);
        }
        return;
      }
      if (pings > 0) return;
      ping();
    };
    const ping = () => {
      if (done) return;
      pings++;
      // A failure means the session went away: no request can be on its way.
      const sent = session.ping((err) => (err !== null || pings >= 2 ? goAway() : ping()));
      if (!sent) goAway();
    };
    const timer = setTimeout(goAway, fallbackMs);
    session.once("stream", goAway);
    session.once("close", goAway);
    next();
  });
}
