// A server of your own, built with the toolwire library: one tool of yours beside the built-in
// ones, served over Connect, gRPC, gRPC-Web and MCP on one port, with /health, /metrics and
// /events, logging JSON to stdout. Run it with `npx tsx server.ts`; stop it with Ctrl-C.
import { createToolwireApp, defineTool } from "toolwire";

const wordCount = defineTool(
  {
    name: "word_count",
    version: "1.0.0",
    description: "Counts the words in a text.",
    category: "text",
    input: {
      type: "object",
      properties: { text: { type: "string", maxLength: 100000 } },
      required: ["text"],
      additionalProperties: false,
    },
    output: { type: "object", properties: { words: { type: "integer" } }, required: ["words"], additionalProperties: false },
  },
  // Typed from the inline manifest: input.text is a string, and the answer must have words.
  (input) => ({ words: input.text.split(/\s+/).filter(Boolean).length }),
);

// The first argument is what a toolwire.json would hold (schemas/config.schema.json).
const app = await createToolwireApp({ server: { host: "127.0.0.1", port: 8081 } }, { tools: [wordCount] });
const { url } = await app.listen();
console.log(`toolwire listening on ${url}`);

// Ctrl-C or SIGTERM: stop taking calls, let running ones finish (up to 5 s), then exit.
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => void app.close(5_000).then(() => process.exit(0)));
}
