import { randomUUID } from "node:crypto";
import { WebStandardStreamableHTTPServerTransport, type AuthInfo, type Server } from "@modelcontextprotocol/server";
import type { ToolServerFactory } from "./tool-server.js";

/** Limits of the 2025-era session store. */
export interface LegacySessionLimits {
  /** Most sessions held at once; further clients are served without a session (default 1000). */
  readonly maxSessions?: number | undefined;
  /** A session with no request and no open stream for this long is ended (default 10 minutes). */
  readonly idleTimeoutMs?: number | undefined;
}

/** Options of {@link createLegacySessions}. */
export interface LegacySessionOptions extends LegacySessionLimits {
  /** Makes the server instance a session is pinned to. */
  readonly factory: ToolServerFactory;
  /** SSE keep-alive interval of session streams, in ms. */
  readonly keepAliveMs?: number | undefined;
  /** Told when the store fills up or a session fails. */
  readonly onWarning: (message: string, error?: unknown) => void;
}

/** What a session answered, and the call that marks the exchange as finished. */
export interface SessionExchange {
  /** The response to write. */
  readonly response: Response;
  /** Call once the response has been written (or abandoned). */
  readonly release: () => void;
}

/** Per-request inputs the SDK transport takes. */
export interface SessionRequestOptions {
  /** The JSON body, already read and parsed. */
  readonly parsedBody?: unknown;
  /** Pass-through auth info carrying who is calling. */
  readonly authInfo: AuthInfo;
}

/**
 * Sessions of 2025-era clients (`Mcp-Session-Id`), bounded in number and idle time. A session pins
 * one server instance, which is what that protocol generation needs for `notifications/cancelled`
 * to reach a running call and for `notifications/tools/list_changed` to reach the client's GET
 * stream. Each session belongs to the principal that opened it.
 */
export interface LegacySessions {
  /** Sessions held now. */
  readonly size: number;
  /** Serves an `initialize` in a new session; undefined when the store is full (serve it statelessly). */
  open(principalId: string, request: Request, options: SessionRequestOptions): Promise<SessionExchange | undefined>;
  /**
   * Serves a request of an existing session; undefined when the session is unknown, "forbidden"
   * when it is another caller's. `principalId` is undefined for a tools/call, which the pipeline
   * authenticates itself: the call runs with its own credentials whatever session it names.
   */
  serve(
    sessionId: string,
    principalId: string | undefined,
    request: Request,
    options: SessionRequestOptions,
  ): Promise<SessionExchange | "forbidden" | undefined>;
  /** Tells every session's client that the tool list changed. */
  toolsChanged(): void;
  /** Shutdown has begun: end the sessions' GET streams (running calls finish on their own streams). */
  endStreams(): void;
  /** Ends every session. */
  close(): Promise<void>;
}

interface Session {
  /** The server instance the session is pinned to. */
  readonly server: Server;
  /** The SDK's stateful transport holding the session's streams. */
  readonly transport: WebStandardStreamableHTTPServerTransport;
  /** Who opened the session. */
  readonly principalId: string;
  /** HTTP exchanges of this session still open (requests in flight, GET streams). */
  active: number;
  lastSeen: number;
}

/** Creates the bounded store of 2025-era sessions. */
export function createLegacySessions(options: LegacySessionOptions): LegacySessions {
  const maxSessions = options.maxSessions ?? 1000;
  const idleTimeoutMs = options.idleTimeoutMs ?? 600_000;
  const sessions = new Map<string, Session>();
  let opening = 0;
  let warnedFull = false;

  const sweeper = setInterval(sweep, Math.max(1_000, Math.min(idleTimeoutMs, 60_000) / 2));
  sweeper.unref();

  function sweep(): void {
    const idleSince = Date.now() - idleTimeoutMs;
    for (const [id, session] of sessions) {
      if (session.active === 0 && session.lastSeen < idleSince) end(id, session);
    }
  }

  function end(id: string, session: Session): void {
    sessions.delete(id);
    session.server.close().catch((err: unknown) => options.onWarning("closing an MCP session failed", err));
  }

  function exchange(session: Session, response: Response): SessionExchange {
    let released = false;
    return {
      response,
      release: () => {
        if (released) return;
        released = true;
        session.active--;
        session.lastSeen = Date.now();
      },
    };
  }

  return {
    get size() {
      return sessions.size;
    },

    async open(principalId, request, requestOptions) {
      if (sessions.size + opening >= maxSessions) {
        if (!warnedFull) {
          warnedFull = true;
          options.onWarning(`MCP session limit reached (${maxSessions}); serving further 2025-era clients without sessions`);
        }
        return undefined;
      }
      warnedFull = false;
      opening++;
      let session: Session | undefined;
      const server = options.factory();
      const transport = new WebStandardStreamableHTTPServerTransport({
        sessionIdGenerator: randomUUID,
        onsessioninitialized: (id) => {
          session = { server, transport, principalId, active: 1, lastSeen: Date.now() };
          sessions.set(id, session);
        },
        onsessionclosed: (id) => {
          sessions.delete(id);
        },
        ...(options.keepAliveMs === undefined ? {} : { keepAliveMs: options.keepAliveMs }),
      });
      // However the session ends (DELETE, sweep, shutdown), it leaves the store.
      server.onclose = () => {
        const id = transport.sessionId;
        if (id !== undefined && sessions.get(id)?.server === server) sessions.delete(id);
      };
      try {
        await server.connect(transport);
        const response = await transport.handleRequest(request, requestOptions);
        if (session === undefined) {
          // The initialize failed (bad version, malformed): no session to keep.
          await server.close().catch(() => {});
          return { response, release: () => {} };
        }
        return exchange(session, response);
      } finally {
        opening--;
      }
    },

    async serve(sessionId, principalId, request, requestOptions) {
      const session = sessions.get(sessionId);
      if (session === undefined) return undefined;
      if (principalId !== undefined && session.principalId !== principalId) return "forbidden";
      session.active++;
      session.lastSeen = Date.now();
      try {
        return exchange(session, await session.transport.handleRequest(request, requestOptions));
      } catch (err) {
        session.active--;
        throw err;
      }
    },

    toolsChanged() {
      for (const session of sessions.values()) session.server.sendToolListChanged().catch(() => {});
    },

    endStreams() {
      for (const session of sessions.values()) session.transport.closeStandaloneSSEStream();
    },

    async close() {
      clearInterval(sweeper);
      const all = [...sessions.values()];
      sessions.clear();
      await Promise.all(all.map((s) => s.server.close().catch(() => {})));
    },
  };
}
