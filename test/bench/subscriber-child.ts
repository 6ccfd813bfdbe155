// Subscriber child entry: opens WatchEvents streams (gRPC over HTTP/2, one connection each) and
// `GET /events` Server-Sent Events streams to a server and reads them as fast as it can, in a
// process of its own so that reading costs the measured server nothing. Streams resume from their
// last sequence when cut off for falling behind; cut-offs, gaps and failures are counted.
import type { FromSubscriberChild, SubscriberSpec, ToSubscriberChild } from "./subscriber-process.js";
import { subscribeSse } from "./sse-subscription.js";
import { createSubscriberTally } from "./subscriber-tally.js";
import { watchEvents } from "./watch-subscription.js";

const spec = JSON.parse(process.argv[2] ?? "{}") as SubscriberSpec;
const controller = new AbortController();
const tally = createSubscriberTally();
const streams = spec.watchStreams + (spec.sseStreams ?? 0);
let ready = 0;

const send = (message: FromSubscriberChild): void => {
  process.send?.(message);
};
const opened = () => {
  if (++ready === streams) send({ type: "ready" });
};

for (let i = 0; i < spec.watchStreams; i++) void watchEvents(spec.baseUrl, spec.apiKey, tally, controller.signal, opened);
for (let i = 0; i < (spec.sseStreams ?? 0); i++) void subscribeSse(spec.baseUrl, spec.apiKey, tally, controller.signal, opened);

process.on("disconnect", () => process.exit(0));
process.on("message", (message: ToSubscriberChild) => {
  if (message.type === "count") send({ type: "count", id: message.id, ...tally.counts() });
  else {
    controller.abort();
    process.exit(0);
  }
});
