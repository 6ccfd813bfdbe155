import { pino } from "pino";
import { createAuthenticator, hashApiKey } from "../../../src/security/index.js";
import { createToolwireServer } from "../../../src/server/create-server.js";
import { echo } from "../../../src/tools/echo.js";
import { benchHost, type BenchServer } from "../bench-server.js";

/** The API key the secured target's load sends. */
export const benchApiKey = "tw_bench_key_0123456789abcdef";

/**
 * Starts Toolwire with the security stages on: an API key checked on every call and a
 * per-caller request budget too large to be reached, so every call pays for both.
 */
export async function startToolwireSecuredBenchServer(): Promise<BenchServer> {
  const server = createToolwireServer({
    host: benchHost,
    port: 0,
    tools: [echo],
    authenticate: createAuthenticator({ apiKeys: [{ id: "bench", sha256: hashApiKey(benchApiKey), level: "authenticated" }] }),
    requestLimits: { perCaller: { maxCalls: 1_000_000_000, windowSeconds: 60 } },
    logger: pino({ level: "silent" }),
  });
  const { port } = await server.listen();
  return { port, close: () => server.close(0) };
}
