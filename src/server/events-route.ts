import { Code, ConnectError } from "@connectrpc/connect";
import type { EventBus, EventStreamItem } from "../events/event-bus.js";
import { eventTypeNames, isEventTypeName, type EventTypeName } from "../events/event.js";
import { codeName } from "../runtime/code-name.js";
import { callerFromRequest } from "./caller-info.js";
import { eventToJson } from "./event-convert.js";
import { subscribeReader } from "./event-visibility.js";
import { writeJsonError } from "./health.js";
import type { MonitorAccess } from "./monitor-access.js";
import { writeConnectError } from "./plain-errors.js";
import type { PlainRequest, PlainRouteHandler, PlainServerResponse } from "./server-extension.js";
import { createStreamLifetime } from "./stream-lifetime.js";

/** What `GET /events` asks for, from its query and Last-Event-ID header. */
export interface EventsQuery {
  /** Only these types; empty means every type. */
  readonly types: readonly EventTypeName[];
  /** Only these tools; empty means every tool and the non-tool events. */
  readonly tools: readonly string[];
  /** Replay after this sequence; undefined means live events only. */
  readonly afterSequence: number | undefined;
  /** End the response after this many events; undefined means never. */
  readonly limit: number | undefined;
}

const sequencePattern = /^\d{1,16}$/;
const maxLimit = 1_000_000;
const maxTools = 1000;
const reconnectMs = 1000;

function listParam(params: URLSearchParams, name: string): string[] {
  return params
    .getAll(name)
    .flatMap((value) => value.split(","))
    .map((value) => value.trim())
    .filter((value) => value !== "");
}

function badRequest(message: string): ConnectError {
  return new ConnectError(message, Code.InvalidArgument);
}

function parseSequence(value: string, source: string): number {
  if (!sequencePattern.test(value)) throw badRequest(`${source} must be an event sequence number (digits), got "${value.slice(0, 40)}"`);
  return Number(value);
}

/**
 * Reads `?types=tool_called,tool_failed&tools=echo&after_sequence=0&limit=10` and
 * `Last-Event-ID` (which wins over after_sequence: it is where a reconnecting EventSource left
 * off). Types may also be written as the protobuf names (EVENT_TYPE_TOOL_CALLED). Throws
 * invalid_argument naming what is wrong.
 */
export function parseEventsQuery(url: string, lastEventId: string | undefined): EventsQuery {
  const query = url.indexOf("?");
  const params = new URLSearchParams(query === -1 ? "" : url.slice(query + 1));
  for (const name of params.keys()) {
    if (!["types", "tools", "after_sequence", "limit"].includes(name)) {
      throw badRequest(`unknown query parameter "${name.slice(0, 40)}"; /events accepts types, tools, after_sequence and limit`);
    }
  }
  const types: EventTypeName[] = [];
  for (const raw of listParam(params, "types")) {
    const name = raw.toLowerCase().replace(/^event_type_/, "");
    if (!isEventTypeName(name)) throw badRequest(`unknown event type "${raw.slice(0, 40)}"; use ${eventTypeNames.join(", ")}`);
    types.push(name);
  }
  const tools = listParam(params, "tools");
  if (tools.length > maxTools) throw badRequest(`tools lists ${tools.length} names; at most ${maxTools} are accepted`);
  let afterSequence: number | undefined;
  const after = params.get("after_sequence");
  if (after !== null) afterSequence = parseSequence(after, "after_sequence");
  if (lastEventId !== undefined && lastEventId.trim() !== "") afterSequence = parseSequence(lastEventId.trim(), "Last-Event-ID");
  let limit: number | undefined;
  const limitParam = params.get("limit");
  if (limitParam !== null) {
    limit = Number(limitParam);
    if (!Number.isInteger(limit) || limit < 1 || limit > maxLimit) throw badRequest(`limit must be a whole number from 1 to ${maxLimit}, got "${limitParam.slice(0, 40)}"`);
  }
  return { types, tools, afterSequence, limit };
}

/** One stream item as Server-Sent Events text: an event with id and type, or a heartbeat comment. */
export function sseChunk(item: EventStreamItem): string {
  if (item.kind === "heartbeat") return `: heartbeat last_sequence=${item.lastSequence} time=${new Date(item.time).toISOString()}\n\n`;
  return `id: ${item.event.sequence}\nevent: ${item.event.type}\ndata: ${eventToJson(item.event)}\n\n`;
}

/** The part of a node:http or node:http2 response a stream writes to (one type for both). */
interface StreamResponse {
  writeHead(status: number, headers: Record<string, string>): unknown;
  write(chunk: string): boolean;
  end(): unknown;
  on(event: "drain" | "close", listener: () => void): unknown;
  off(event: "drain" | "close", listener: () => void): unknown;
  once(event: "close", listener: () => void): unknown;
}

/** Waits until `res` can take more data, or the client is gone. */
function drained(res: StreamResponse, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      res.off("drain", done);
      signal.removeEventListener("abort", done);
      resolve();
    };
    res.on("drain", done);
    signal.addEventListener("abort", done);
    if (signal.aborted) done();
  });
}

/**
 * Creates `GET /events`: the event stream as Server-Sent Events (`id:` is the sequence,
 * `event:` the type, `data:` the event as protobuf JSON; heartbeats are comments), for
 * `curl -N` and browsers' EventSource. A caller reads only the events of tools it may list. A
 * stream that cannot go on (a slow reader cut off, shutdown) ends with an `event: stream_error`
 * carrying `{code, message}`; EventSource then reconnects with Last-Event-ID and resumes.
 */
export function createEventsRoute(deps: {
  /** Events to stream. */
  readonly bus: EventBus;
  /** Who may watch. */
  readonly access: MonitorAccess;
  /** When a stream is ended so that the client reconnects (`limits.maxStreamDurationMs`). */
  readonly maxStreamDurationMs: number;
}): PlainRouteHandler {
  const { bus, access, maxStreamDurationMs } = deps;
  return async (req: PlainRequest, plainResponse: PlainServerResponse) => {
    const res = plainResponse as unknown as StreamResponse;
    if (req.method !== "GET") {
      writeJsonError(plainResponse, 405, "unimplemented", `${req.method ?? "?"} /events is not supported; use GET`, { allow: "GET" });
      return;
    }
    const controller = new AbortController();
    const gone = () => controller.abort();
    req.once("close", gone);
    res.once("close", gone);
    const lifetime = createStreamLifetime(controller.signal, maxStreamDurationMs, "reconnect with Last-Event-ID set to the last id received");
    try {
      let query: EventsQuery;
      let subscription;
      try {
        const lastEventId = req.headers["last-event-id"];
        query = parseEventsQuery(req.url ?? "/events", Array.isArray(lastEventId) ? lastEventId[0] : lastEventId);
        const reader = await access.check("events", callerFromRequest(req, "sse"));
        subscription = await subscribeReader(bus, reader, { ...query, signal: lifetime.signal });
      } catch (err) {
        if (!controller.signal.aborted) writeConnectError(plainResponse, err);
        return;
      }
      res.writeHead(200, {
        "content-type": "text/event-stream; charset=utf-8",
        "cache-control": "no-cache, no-store",
        // Proxies such as nginx must pass events on as they come, not buffer them.
        "x-accel-buffering": "no",
      });
      // Reconnect after a second when the stream ends (EventSource's default is longer).
      res.write(`retry: ${reconnectMs}\n\n`);
      let sent = 0;
      try {
        for await (const item of subscription) {
          if (!res.write(sseChunk(item))) await drained(res, lifetime.signal);
          if (lifetime.signal.aborted) break;
          if (item.kind === "event" && query.limit !== undefined && ++sent >= query.limit) break;
        }
        if (lifetime.expired) throw lifetime.expiredError();
      } catch (err) {
        const error = ConnectError.from(err);
        if (!controller.signal.aborted) {
          res.write(`event: stream_error\ndata: ${JSON.stringify({ code: codeName(error.code), message: error.rawMessage })}\n\n`);
        }
      } finally {
        subscription.close();
      }
      if (!controller.signal.aborted) res.end();
    } finally {
      lifetime.dispose();
      req.off("close", gone);
      res.off("close", gone);
    }
  };
}
