import { create } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { ErrorInfoSchema } from "../../gen/proto/toolwire/v1/errors_pb.js";
import type { CallToolResponse } from "../../gen/proto/toolwire/v1/tool_service_pb.js";
import { createCircuitBreaker, type CircuitBreaker, type CircuitBreakerOptions, type CircuitState } from "./circuit-breaker.js";
import { codeName } from "../runtime/code-name.js";
import type { HealthStatus } from "./health-check.js";
import type { ClientLogger } from "./logging-interceptor.js";
import type { ToolCallOptions } from "./tool-client.js";
import type { ToolArguments, ToolwireClient } from "./toolwire-client.js";
import { isConnectionFailure, wasNeverSent } from "./transient-error.js";

/** The outcome of an operation on one server: a value, or the error it failed with. */
export type ServerOutcome<T = void> =
  | { readonly ok: true; readonly value: T }
  | { readonly ok: false; readonly error: ConnectError };

/** What the manager knows about one server. */
export interface ManagedServer {
  /** The id it was added under. */
  readonly id: string;
  /** Its base URL. */
  readonly url: string;
  /** Whether its client is connected. */
  readonly connected: boolean;
  /** The last health check's verdict (a successful call also counts); undefined before either. */
  readonly healthy: boolean | undefined;
  /** Its circuit breaker's state. */
  readonly circuit: CircuitState;
  /** Consecutive failures its circuit breaker counted. */
  readonly consecutiveFailures: number;
  /** Names of the tools it serves to this caller, once listed. */
  readonly tools: readonly string[] | undefined;
  /** Calls this manager routed to it that reached it. */
  readonly calls: number;
}

/** Options of {@link createClientManager}. */
export interface ClientManagerOptions {
  /** When a server's circuit opens and when it is probed again (default 5 failures, 30 s). */
  readonly circuitBreaker?: CircuitBreakerOptions;
  /** How long a server's tool list is trusted before it is listed again, in ms (default 30 000). */
  readonly toolListTtlMs?: number;
  /** Where failovers and circuit changes are logged. */
  readonly logger?: ClientLogger;
}

/** Several Toolwire servers behind one call: routing, failover and per-server circuit breakers. */
export interface ClientManager {
  /** Adds a server's client under an id; throws if the id is taken. */
  addClient(id: string, client: ToolwireClient): void;
  /** The client added under `id`. */
  getClient(id: string): ToolwireClient | undefined;
  /** Removes a server and disconnects its client; false when there was none. */
  removeClient(id: string): Promise<boolean>;
  /** Ids of every server, in the order they were added. */
  ids(): string[];
  /** Connects every client; one server failing never hides the others' outcomes. */
  connectAll(): Promise<Record<string, ServerOutcome>>;
  /** Checks every server's health (a healthy answer also closes its circuit). */
  healthCheckAll(): Promise<Record<string, HealthStatus>>;
  /** Disconnects every client. */
  disconnectAll(): Promise<Record<string, ServerOutcome>>;
  /**
   * Runs a tool on a healthy server that has it, taking them in turn (round-robin); moves on to
   * the next when one answers unavailable, and skips servers whose circuit is open. Rejects with
   * unavailable naming each server's reason when none could run it, not_found when none has it.
   */
  call<N extends string>(tool: N, args?: ToolArguments<N>, options?: ToolCallOptions): Promise<CallToolResponse>;
  /** What the manager knows about each server. */
  servers(): Record<string, ManagedServer>;
  /**
   * Adds the live peers a managed server knows (GetServerInfo `peers`, filled when instances
   * share Redis), each under its server id with a client from `createClient(url)`; servers
   * already managed (by id or URL) are skipped. Resolves with the ids added.
   */
  discover(from: string, createClient: (url: string) => ToolwireClient): Promise<string[]>;
}

interface Server {
  readonly id: string;
  readonly client: ToolwireClient;
  readonly breaker: CircuitBreaker;
  healthy: boolean | undefined;
  tools: Set<string> | undefined;
  toolsListedAt: number;
  calls: number;
}

/** Creates an empty client manager. */
export function createClientManager(options: ClientManagerOptions = {}): ClientManager {
  const servers = new Map<string, Server>();
  const toolListTtlMs = options.toolListTtlMs ?? 30_000;
  const turns = new Map<string, number>();
  const logger = options.logger;

  async function each<T>(fn: (server: Server) => Promise<T>): Promise<Record<string, ServerOutcome<T>>> {
    const list = [...servers.values()];
    const settled = await Promise.allSettled(list.map(fn));
    return Object.fromEntries(
      list.map((s, i) => {
        const r = settled[i] as PromiseSettledResult<T>;
        return [s.id, r.status === "fulfilled" ? { ok: true, value: r.value } : { ok: false, error: ConnectError.from(r.reason) }];
      }),
    );
  }

  async function listTools(server: Server): Promise<void> {
    const tools = await server.client.listTools();
    server.tools = new Set(tools.map((t) => t.name));
    server.toolsListedAt = Date.now();
  }

  function failed(server: Server, error: ConnectError): void {
    const before = server.breaker.state;
    server.breaker.failure();
    if (server.breaker.state === "open" && before !== "open") {
      logger?.warn({ server: server.id, failures: server.breaker.consecutiveFailures, error: error.rawMessage }, "circuit opened");
    }
  }

  function succeeded(server: Server): void {
    if (server.breaker.state !== "closed") logger?.info({ server: server.id }, "circuit closed");
    server.breaker.success();
    server.healthy = true;
  }

  /** Whether the server failed for its own sake, so that another may be tried. */
  function serverFault(error: ConnectError, raw: unknown): boolean {
    return error.code === Code.Unavailable || isConnectionFailure(raw);
  }

  return {
    async discover(from, createClient) {
      const seed = servers.get(from);
      if (seed === undefined) throw new Error(`no server with id "${from}" is managed`);
      const info = await seed.client.getServerInfo();
      const urls = new Set([...servers.values()].map((s) => s.client.url));
      const added: string[] = [];
      for (const peer of info.peers) {
        if (peer.url === "" || servers.has(peer.serverId) || urls.has(peer.url)) continue;
        this.addClient(peer.serverId, createClient(peer.url));
        urls.add(peer.url);
        added.push(peer.serverId);
      }
      if (added.length > 0) logger?.info({ from, added }, "discovered servers");
      return added;
    },
    addClient(id, client) {
      if (servers.has(id)) throw new Error(`a server with id "${id}" is already managed`);
      servers.set(id, {
        id,
        client,
        breaker: createCircuitBreaker(options.circuitBreaker),
        healthy: undefined,
        tools: undefined,
        toolsListedAt: 0,
        calls: 0,
      });
    },
    getClient(id) {
      return servers.get(id)?.client;
    },
    async removeClient(id) {
      const server = servers.get(id);
      if (server === undefined) return false;
      servers.delete(id);
      await server.client.disconnect();
      return true;
    },
    ids() {
      return [...servers.keys()];
    },
    connectAll() {
      return each(async (server) => {
        await server.client.connect();
        await listTools(server);
        succeeded(server);
      });
    },
    async healthCheckAll() {
      const list = [...servers.values()];
      const results = await Promise.all(list.map((s) => s.client.healthCheck()));
      return Object.fromEntries(
        list.map((server, i) => {
          const health = results[i] as HealthStatus;
          if (health.healthy) succeeded(server);
          else {
            failed(server, new ConnectError(health.error ?? health.status, Code.Unavailable));
            server.healthy = false;
          }
          return [server.id, health];
        }),
      );
    },
    disconnectAll() {
      return each((server) => server.client.disconnect());
    },
    async call(tool, args, callOptions) {
      const list = [...servers.values()];
      if (list.length === 0) throw new ConnectError(`no servers to call tool "${tool}" on: add one with addClient()`, Code.FailedPrecondition);
      // Tool lists older than their TTL are refreshed first, by the servers that may take calls.
      await Promise.all(
        list
          .filter((s) => (s.tools === undefined || Date.now() - s.toolsListedAt > toolListTtlMs) && s.breaker.state !== "open")
          .map((s) => listTools(s).catch((err: unknown) => {
            const ce = ConnectError.from(err);
            if (serverFault(ce, err)) failed(s, ce);
          })),
      );
      const having = list.filter((s) => s.tools?.has(tool) === true);
      if (having.length === 0) {
        throw new ConnectError(`no server has tool "${tool}" (servers: ${list.map((s) => s.id).join(", ")})`, Code.NotFound, undefined, [
          { desc: ErrorInfoSchema, value: create(ErrorInfoSchema, { reason: "TOOL_NOT_FOUND", metadata: { tool } }) },
        ]);
      }
      const turn = turns.get(tool) ?? 0;
      turns.set(tool, turn + 1);
      const rotated = having.map((_, i) => having[(turn + i) % having.length] as Server);
      // Servers whose last health check failed come after the others, as a last resort, unless
      // their circuit is ready for a probe.
      const ready = (s: Server) => s.healthy !== false || s.breaker.state === "half_open";
      const ordered = [...rotated.filter(ready), ...rotated.filter((s) => !ready(s))];
      const reasons: string[] = [];
      for (const server of ordered) {
        if (!server.breaker.tryAcquire()) {
          reasons.push(`${server.id}: circuit open`);
          continue;
        }
        try {
          const result = await server.client.callTool(tool, args, callOptions);
          server.calls++;
          succeeded(server);
          return result;
        } catch (err) {
          const ce = ConnectError.from(err);
          if (serverFault(ce, err)) {
            failed(server, ce);
            // An unavailable answer or a refused connection or stream proves the call did not run;
            // a broken connection may not.
            if (ce.code === Code.Unavailable || wasNeverSent(err)) {
              reasons.push(`${server.id}: ${ce.rawMessage}`);
              logger?.warn({ server: server.id, tool, code: codeName(ce.code) }, "failing over");
              continue;
            }
          } else if (ce.code === Code.Canceled || ce.code === Code.DeadlineExceeded) {
            server.breaker.release();
          } else {
            // The server answered (a refusal, bad arguments): it works, the call does not.
            server.calls++;
            succeeded(server);
          }
          throw err;
        }
      }
      throw new ConnectError(`no server could run tool "${tool}": ${reasons.join("; ")}`, Code.Unavailable);
    },
    servers() {
      return Object.fromEntries(
        [...servers.values()].map((s) => [
          s.id,
          {
            id: s.id,
            url: s.client.url,
            connected: s.client.connected,
            healthy: s.healthy,
            circuit: s.breaker.state,
            consecutiveFailures: s.breaker.consecutiveFailures,
            tools: s.tools === undefined ? undefined : [...s.tools].sort(),
            calls: s.calls,
          },
        ]),
      );
    },
  };
}
