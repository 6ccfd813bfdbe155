// Load child entry: runs autocannon loads on the orchestrator's request, in its own process so the
// load generator never shares a process (or an event loop) with the server it measures.
import type { FromLoadChild, ToLoadChild } from "./ipc-messages.js";
import { runLoad } from "./run-load.js";

const send = (message: FromLoadChild): void => {
  process.send?.(message);
};

process.on("disconnect", () => process.exit(0));
process.on("message", (message: ToLoadChild) => {
  if (message.type === "stop") {
    process.exit(0);
  }
  runLoad(message.spec).then(
    (summary) => send({ type: "done", summary }),
    (error: unknown) => send({ type: "failed", message: error instanceof Error ? error.message : String(error) }),
  );
});
