// Soak driver child entry: makes the soak's calls through real clients of every surface, in a
// process of its own so the driver never shares an event loop with the server or the
// orchestrator's clock. argv[2] is the server's origin, argv[3] the API key to send.
import { createSoakDriver } from "./soak-driver.js";
import type { FromDriverChild, ToDriverChild } from "./soak-driver-process.js";
import { createSoakSurfaces } from "./soak-surfaces.js";

const send = (message: FromDriverChild): void => {
  process.send?.(message);
};

const [baseUrl = "", apiKey = ""] = process.argv.slice(2);
const { surfaces, close } = await createSoakSurfaces(baseUrl, apiKey);
// One call of every surface first: a surface that cannot answer at all stops the soak before it starts.
for (const surface of surfaces) await surface.call(AbortSignal.timeout(30_000));
const driver = createSoakDriver(surfaces);

const fail = (id: number, error: unknown) => send({ type: "failed", id, message: error instanceof Error ? error.message : String(error) });

process.on("disconnect", () => process.exit(0));
process.on("message", (message: ToDriverChild) => {
  switch (message.type) {
    case "measure":
      driver.measure(message.seconds, message.concurrency).then((capacity) => send({ type: "measured", id: message.id, capacity }), (error: unknown) => fail(message.id, error));
      break;
    case "start":
      driver.start(message.rate);
      send({ type: "started", id: message.id });
      break;
    case "drain":
      driver.drain(message.timeoutMs).then(() => send({ type: "drained", id: message.id }), (error: unknown) => fail(message.id, error));
      break;
    case "window":
      send({ type: "window", id: message.id, window: driver.window() });
      break;
    case "stop":
      void close().finally(() => process.exit(0));
      break;
  }
});
send({ type: "ready", id: -1 });
