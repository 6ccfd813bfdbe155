import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { MonitorService } from "../../gen/proto/toolwire/v1/monitor_service_pb.js";
import { createAuthInterceptor } from "../../src/client/auth-interceptor.js";
import { isLifetimeEnd, type SubscriberTally } from "./subscriber-tally.js";

/** Pause before reopening a stream that failed for another reason than falling behind, so a refusal does not spin. */
const retryMs = 200;

/**
 * Reads one WatchEvents stream (gRPC over HTTP/2, a connection of its own) as fast as it can until
 * `signal` aborts, resuming from its last sequence whenever it ends. Calls `opened` once, at the
 * first heartbeat.
 */
export async function watchEvents(
  baseUrl: string,
  apiKey: string | undefined,
  tally: SubscriberTally,
  signal: AbortSignal,
  opened: () => void,
): Promise<void> {
  const interceptors = apiKey === undefined ? [] : [createAuthInterceptor({ apiKey })];
  const client = createClient(MonitorService, createGrpcTransport({ baseUrl, interceptors }));
  let after: bigint | undefined;
  let open = false;
  while (!signal.aborted) {
    try {
      const request = after === undefined ? {} : { afterSequence: after };
      for await (const message of client.watchEvents(request, { signal })) {
        if (message.kind.case === "event") {
          tally.event(after, message.kind.value.sequence);
          after = message.kind.value.sequence;
        } else if (message.kind.case === "heartbeat") {
          after ??= message.kind.value.lastSequence;
          if (!open) {
            open = true;
            opened();
          }
        }
      }
    } catch (err) {
      if (signal.aborted) return;
      const error = ConnectError.from(err);
      if (error.code === Code.ResourceExhausted) {
        tally.cutOff();
        continue;
      }
      if (isLifetimeEnd(error.code, error.rawMessage)) continue;
      tally.error(`WatchEvents: ${error.message}`);
      await new Promise((resolve) => setTimeout(resolve, retryMs));
    }
  }
}
