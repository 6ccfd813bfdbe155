// Writes a few log lines with createLogger, configured from argv: <level> <pretty> <destination>.
import { createLogger } from "../../src/logging/index.js";

const [level = "info", pretty = "false", destination = "1"] = process.argv.slice(2);
const logger = createLogger({ level, pretty: pretty === "auto" ? "auto" : pretty === "true", destination: destination === "2" ? 2 : 1 });
logger.debug({ step: 0 }, "debug line");
logger.info({ tool: "echo", headers: { authorization: "Bearer sk-live-secret" }, apiKey: "sk-live-secret" }, "tool call");
logger.warn({ callerId: "bob" }, "denied");
