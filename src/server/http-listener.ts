import { createServer as createHttpServer, type Server as HttpServer } from "node:http";
import { createServer as createHttp2Server, type Http2SecureServer, type Http2Server } from "node:http2";
import { createServer as createTlsServer } from "node:tls";
import type { Server as NetServer, Socket } from "node:net";
import type { ConnectionLifecycle } from "./connection-lifecycle.js";
import { finAfterPeer } from "./fin-after-peer.js";
import { createProtocolSniffer } from "./protocol-sniffer.js";
import type { EdgeRequest, EdgeResponse } from "./refusal.js";

/** Options of {@link createHttpListener}. */
export interface HttpListenerOptions {
  /** Serve TLS (HTTP/2 and HTTP/1.1 negotiated by ALPN) with this PEM certificate and key. */
  readonly tls?: { readonly cert: string | Buffer; readonly key: string | Buffer } | undefined;
  /** Time a client has to send its request headers (and finish a TLS handshake), in ms. */
  readonly headersTimeoutMs: number;
  /** Longest an HTTP/1.1 request may take as a whole, in ms (node's backstop behind the body timeout). */
  readonly requestTimeoutMs: number;
  /** Idle keep-alive connections close after this long, in ms. */
  readonly idleTimeoutMs: number;
  /** Largest request header block, in bytes. */
  readonly maxHeaderBytes: number;
  /** HTTP/2 streams one client may have open at once. */
  readonly maxConcurrentStreams: number;
  /** Connections past which the port stops accepting at all (the soft cap is answered by the edge). */
  readonly hardMaxConnections: number;
  /** Tracks every connection and session. */
  readonly lifecycle: ConnectionLifecycle;
  /** The request listener of both HTTP versions. */
  readonly handler: (req: EdgeRequest, res: EdgeResponse) => void;
}

/** The servers behind one port. */
export interface HttpListener {
  /** The TCP (or TLS) server that owns the port. */
  readonly listener: NetServer;
  /** The HTTP/1.1 server; it never listens itself. */
  readonly http1: HttpServer;
  /** The HTTP/2 server; it never listens itself. */
  readonly http2: Http2Server | Http2SecureServer;
}

/**
 * Creates one HTTP/1.1 and one HTTP/2 server behind one port, cleartext (the first bytes tell
 * which) or TLS (ALPN tells), so both get the same header, request and idle timeouts and limits.
 */
export function createHttpListener(options: HttpListenerOptions): HttpListener {
  const { lifecycle, handler } = options;
  const http1 = createHttpServer(
    {
      headersTimeout: options.headersTimeoutMs,
      requestTimeout: options.requestTimeoutMs,
      keepAliveTimeout: options.idleTimeoutMs,
      maxHeaderSize: options.maxHeaderBytes,
      // How often the timeouts above are checked.
      connectionsCheckingInterval: Math.min(1_000, options.headersTimeoutMs),
    },
    handler,
  );
  const http2 = createHttp2Server(
    { settings: { maxConcurrentStreams: options.maxConcurrentStreams, maxHeaderListSize: options.maxHeaderBytes }, maxHeaderListPairs: 256 },
    handler,
  );
  http2.on("session", (session) => lifecycle.trackSession(session));
  // node's default answer to "Expect: 100-continue" writes on a stream the client may already have
  // reset, and throws outside any request handler; a reset request needs no answer at all.
  http2.on("checkContinue", (req, res) => {
    if (res.stream.destroyed) return;
    res.writeContinue();
    handler(req, res);
  });
  // An HTTP/2 connection's FIN waits for the peer's, so no frame the peer still owes is cut.
  http2.on("connection", (socket: Socket) => finAfterPeer(socket, peerCloseWaitMs));
  let listener: NetServer;
  if (options.tls !== undefined) {
    listener = createTlsServer(
      { cert: options.tls.cert, key: options.tls.key, ALPNProtocols: ["h2", "http/1.1"], handshakeTimeout: options.headersTimeoutMs },
      (socket) => {
        lifecycle.track(socket);
        (socket.alpnProtocol === "h2" ? http2 : http1).emit("connection", socket);
      },
    );
    listener.on("tlsClientError", (_err: Error, socket: Socket) => socket.destroy());
  } else {
    listener = createProtocolSniffer({ http1, http2, firstByteTimeoutMs: options.headersTimeoutMs });
    listener.on("connection", (socket: Socket) => lifecycle.track(socket));
  }
  listener.maxConnections = options.hardMaxConnections;
  return { listener, http1, http2 };
}

/**
 * Longest the server's side of a closed HTTP/2 connection stays open waiting for the peer to close
 * its side, in ms (see {@link finAfterPeer}). Go's HTTP/2 server likewise gives a peer one second
 * after its final GOAWAY.
 */
const peerCloseWaitMs = 1_000;
