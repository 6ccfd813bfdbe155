// A server with monitoring in a process of its own, for the test that shutdown leaves nothing
// running: it prints its URL, closes when told to on stdin, and must then exit by itself.
import { createMonitoring, createToolwireServer } from "../../src/server/index.js";
import { echo } from "../../src/tools/echo.js";

const server = createToolwireServer({
  host: "127.0.0.1",
  port: 0,
  tools: [echo],
  extensions: [createMonitoring({ heartbeatIntervalMs: 50 })],
});
const { url } = await server.listen();
process.stdout.write(`${url}\n`);
process.stdin.setEncoding("utf8");
process.stdin.on("data", (text: string) => {
  if (!text.includes("close")) return;
  // Stdin would keep the process alive; after this only the server's own handles could.
  process.stdin.destroy();
  process.stdout.write(`closing ${JSON.stringify(process.getActiveResourcesInfo())}\n`);
  void server.close(2_000).then(() =>
    // One turn later, so sockets destroyed by close() are gone from the list too.
    setImmediate(() => process.stdout.write(`closed ${JSON.stringify(process.getActiveResourcesInfo())}\n`)),
  );
});
