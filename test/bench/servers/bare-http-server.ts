import { createServer } from "node:http";
import { listenBench, type BenchServer } from "../bench-server.js";

/** Starts a plain node:http server that parses each JSON request body and echoes it back as JSON. */
export async function startBareHttpServer(): Promise<BenchServer> {
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      let parsed: unknown;
      try {
        parsed = JSON.parse(Buffer.concat(chunks).toString("utf8"));
      } catch {
        res.writeHead(400, { "content-type": "application/json" }).end('{"error":"invalid JSON"}');
        return;
      }
      const body = JSON.stringify(parsed);
      res.writeHead(200, { "content-type": "application/json", "content-length": Buffer.byteLength(body) });
      res.end(body);
    });
  });
  return listenBench(server);
}
