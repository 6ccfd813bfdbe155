// A server of your own, built with the toolwire library: one tool, served over Connect, gRPC,
// gRPC-Web and MCP on one port. Run it with `npx tsx server.ts`; stop it with Ctrl-C.
import { createToolwireServer, defineTool, ToolError } from "toolwire";
import { createMcpEndpoint } from "toolwire/mcp";

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
    output: { type: "object", properties: { words: { type: "integer" } }, required: ["words"] },
  },
  // The server has checked the input against the schema; the type only knows it is an object.
  (input) => {
    if (typeof input.text !== "string") throw new ToolError("text must be a string");
    return { words: input.text.split(/\s+/).filter(Boolean).length };
  },
);

const server = createToolwireServer({
  host: "127.0.0.1",
  port: 8081,
  tools: [wordCount],
  extensions: [createMcpEndpoint()],
});
const { url } = await server.listen();
console.log(`toolwire listening on ${url}`);

// Ctrl-C or SIGTERM: stop taking calls, let running ones finish (up to 5 s), then exit.
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => void server.close(5_000).then(() => process.exit(0)));
}
