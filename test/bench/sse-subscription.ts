import { Code } from "@connectrpc/connect";
import { EventSource } from "eventsource";
import { eventTypeNames } from "../../src/events/event.js";
import { isLifetimeEnd, type SubscriberTally } from "./subscriber-tally.js";

/** Pause before reopening a stream the server refused, so a refusal does not spin. */
const retryMs = 200;

const codes: Readonly<Record<string, Code>> = { resource_exhausted: Code.ResourceExhausted, unavailable: Code.Unavailable };

/**
 * Reads `GET /events` with an EventSource (the `eventsource` package, sending `x-api-key` when given)
 * until `signal` aborts. EventSource reconnects by itself with Last-Event-ID after the server ends a
 * stream (`stream_error`); a stream the server refused outright is counted and reopened from the
 * last id. Calls `opened` once, when the first stream is open.
 */
export function subscribeSse(
  baseUrl: string,
  apiKey: string | undefined,
  tally: SubscriberTally,
  signal: AbortSignal,
  opened: () => void,
): Promise<void> {
  let last: bigint | undefined;
  let open = false;
  let source: EventSource | undefined;
  let explained = true;
  const connect = () => {
    const after = last === undefined ? "" : `?after_sequence=${last}`;
    const current = new EventSource(`${baseUrl}/events${after}`, {
      fetch: (url, init) => fetch(url, { ...init, headers: { ...init.headers, ...(apiKey === undefined ? {} : { "x-api-key": apiKey }) } }),
    });
    source = current;
    current.addEventListener("open", () => {
      explained = false;
      if (!open) {
        open = true;
        opened();
      }
    });
    for (const type of eventTypeNames) {
      current.addEventListener(type, (event) => {
        const sequence = BigInt(event.lastEventId);
        tally.event(last, sequence);
        last = sequence;
      });
    }
    current.addEventListener("stream_error", (event) => {
      // The server ends the response next and EventSource reconnects with Last-Event-ID.
      explained = true;
      const { code, message } = JSON.parse(event.data) as { code: string; message: string };
      if (codes[code] === Code.ResourceExhausted) tally.cutOff();
      else if (!isLifetimeEnd(codes[code] ?? Code.Unknown, message)) tally.error(`/events stream_error ${code}: ${message}`);
    });
    current.addEventListener("error", (event) => {
      if (signal.aborted) return;
      if (current.readyState === EventSource.CLOSED) {
        tally.error(`/events refused: ${event.message ?? `status ${event.code ?? "?"}`}`);
        setTimeout(() => signal.aborted || connect(), retryMs);
      } else if (!explained) {
        explained = true;
        tally.error(`/events stream ended without a stream_error: ${event.message ?? "connection closed"}`);
      }
    });
  };
  connect();
  return new Promise((resolve) => {
    signal.addEventListener("abort", () => {
      source?.close();
      resolve();
    });
  });
}
