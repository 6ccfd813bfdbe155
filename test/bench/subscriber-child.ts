// Subscriber child entry: opens argv[3] WatchEvents streams (gRPC over HTTP/2, one connection
// each) to the server at argv[2] and reads them as fast as it can, in a process of its own so
// that reading costs the measured server nothing. A stream cut off for falling behind resumes
// from its last sequence and is counted.
import { createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { MonitorService } from "../../gen/proto/toolwire/v1/monitor_service_pb.js";
import type { FromSubscriberChild, ToSubscriberChild } from "./subscriber-process.js";

const [baseUrl = "", countArg = "0"] = process.argv.slice(2);
const count = Number(countArg);
const controller = new AbortController();
let events = 0;
let cutOff = 0;
let ready = 0;

const send = (message: FromSubscriberChild): void => {
  process.send?.(message);
};

async function subscribe(): Promise<void> {
  const client = createClient(MonitorService, createGrpcTransport({ baseUrl }));
  let after: bigint | undefined;
  let opened = false;
  while (!controller.signal.aborted) {
    try {
      const request = after === undefined ? {} : { afterSequence: after };
      for await (const message of client.watchEvents(request, { signal: controller.signal })) {
        if (message.kind.case === "event") {
          events++;
          after = message.kind.value.sequence;
        } else if (message.kind.case === "heartbeat") {
          after ??= message.kind.value.lastSequence;
          if (!opened) {
            opened = true;
            if (++ready === count) send({ type: "ready" });
          }
        }
      }
    } catch {
      if (controller.signal.aborted) return;
      cutOff++;
    }
  }
}

for (let i = 0; i < count; i++) void subscribe();

process.on("disconnect", () => process.exit(0));
process.on("message", (message: ToSubscriberChild) => {
  if (message.type === "count") send({ type: "count", id: message.id, events, cutOff });
  else {
    controller.abort();
    process.exit(0);
  }
});
