import { Code, ConnectError, createClient, type Client, type Interceptor, type Transport } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { EventType, MonitorService, type Event, type WatchEventsResponse } from "../../gen/proto/toolwire/v1/monitor_service_pb.js";
import { createMonitoring, type MonitoringOptions, type ToolwireServerOptions } from "../../src/server/index.js";
import { startServer, type TestServer } from "../helpers/server.js";

/** Starts a server on a random loopback port with the monitoring extension. */
export function startMonitoredServer(options: ToolwireServerOptions & { readonly monitoring?: MonitoringOptions } = {}): Promise<TestServer> {
  const { monitoring, extensions = [], ...rest } = options;
  return startServer({ ...rest, extensions: [createMonitoring(monitoring), ...extensions] });
}

/** A generated MonitorService client (Connect JSON over HTTP/1.1 unless a transport is given). */
export function monitorClient(baseUrl: string, transport?: Transport): Client<typeof MonitorService> {
  return createClient(MonitorService, transport ?? createConnectTransport({ baseUrl, httpVersion: "1.1" }));
}

/** An interceptor that sets request headers (API keys). */
export function withHeaders(headers: Record<string, string>): Interceptor {
  return (next) => (req) => {
    for (const [name, value] of Object.entries(headers)) req.header.set(name, value);
    return next(req);
  };
}

/** What reading a WatchEvents stream gave: the events, whether heartbeats came, how it ended. */
export interface WatchResult {
  readonly events: Event[];
  readonly heartbeats: number;
  readonly error: ConnectError | undefined;
}

/**
 * Reads a WatchEvents stream until `stop(events)` says so (then cancels it), or until it ends.
 * Never throws: the stream's error is returned.
 */
export async function readWatch(
  stream: (signal: AbortSignal) => AsyncIterable<WatchEventsResponse>,
  stop: (events: readonly Event[]) => boolean = () => false,
  onMessage?: (message: WatchEventsResponse) => void,
): Promise<WatchResult> {
  const controller = new AbortController();
  const events: Event[] = [];
  let heartbeats = 0;
  let error: ConnectError | undefined;
  try {
    for await (const message of stream(controller.signal)) {
      onMessage?.(message);
      if (message.kind.case === "heartbeat") heartbeats++;
      if (message.kind.case === "event") events.push(message.kind.value);
      if (stop(events)) {
        controller.abort();
        break;
      }
    }
  } catch (err) {
    const connectError = ConnectError.from(err);
    if (!(controller.signal.aborted && connectError.code === Code.Canceled)) error = connectError;
  }
  return { events, heartbeats, error };
}

/** Events as "TOOL_CALLED:echo" strings, for readable assertions. */
export function eventNames(events: readonly Event[]): string[] {
  return events.map((e) => `${EventType[e.type]}:${e.toolName}`);
}
