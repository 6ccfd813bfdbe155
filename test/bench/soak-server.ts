import { rm } from "node:fs/promises";
import { dirname } from "node:path";
import { writeConfig } from "../cluster/cluster-helpers.js";
import { killChild } from "../helpers/processes.js";
import { spawnServe } from "../helpers/serve-process.js";
import { hashApiKey } from "../../src/security/index.js";

/** The API key the soak's authenticated calls and event streams send. */
export const soakApiKey = "tw_soak_key_0123456789abcdef";

/** The `toolwire serve` process under soak. */
export interface SoakServer {
  readonly pid: number;
  /** Origin, e.g. http://127.0.0.1:1234. */
  readonly url: string;
  /** What it wrote to stdout and stderr (it logs at warn and above), line by line. */
  logLines(): string[];
  /** Stops it with SIGTERM and removes its config. */
  stop(): Promise<void>;
}

/**
 * Starts the real CLI, `toolwire serve`, on a free loopback port with a config holding one API key:
 * monitoring (events, stats, /metrics) then needs that key, and tools answer keyed and anonymous
 * callers alike.
 */
export async function startSoakServer(): Promise<SoakServer> {
  const config = await writeConfig({ auth: { apiKeys: [{ id: "soak", sha256: hashApiKey(soakApiKey), level: "authenticated" }] } });
  try {
    const serve = await spawnServe(["--config", config]);
    return {
      pid: serve.child.pid ?? -1,
      url: serve.url,
      logLines: () => serve.output().split("\n").filter((line) => line.trim() !== "" && !line.startsWith("toolwire listening on")),
      async stop() {
        await killChild(serve.child, "SIGTERM");
        await rm(dirname(config), { recursive: true, force: true });
      },
    };
  } catch (error) {
    await rm(dirname(config), { recursive: true, force: true });
    throw error;
  }
}
