import { dirname, resolve } from "node:path";
import { Option, type Command } from "commander";
import type { Logger } from "pino";
import { logLevels } from "../logging/log-levels.js";
import { configPathOf } from "./project-config.js";
import type { McpToolSource } from "../mcp/index.js";

/** Flags of `toolwire mcp`. */
interface McpFlags {
  remote?: string;
  apiKey?: string;
  token?: string;
  config?: string;
  watch?: boolean;
  logLevel?: string;
}

/** What serving over stdio needs: the tools, and what to release when the client goes. */
interface StdioBackend {
  /** Where the tools come from. */
  readonly source: McpToolSource;
  /** Releases what the backend holds (pipeline, Redis, plugin watchers). */
  close(): Promise<void>;
}

/**
 * Adds `toolwire mcp`: serves tools to an MCP client that spawns this process (Claude Desktop,
 * Cursor, the Inspector) over stdin/stdout — the built-in tools through the local call pipeline,
 * or with `--remote` the tools of a Toolwire server, called through the Connect client. Standard
 * output carries the protocol only; logs go to standard error.
 */
export function registerMcpCommand(program: Command): void {
  program
    .command("mcp")
    .description("serve tools to an MCP client over stdio: the built-in tools, or with --remote those of a Toolwire server")
    .option("--remote <url>", "expose the tools of the Toolwire server at this URL; env TOOLWIRE_URL")
    .option("--api-key <key>", "API key the calls are made with (prefer env TOOLWIRE_API_KEY: flags show in ps)")
    .option("--token <jwt>", "bearer token the calls are made with, instead of an API key; env TOOLWIRE_TOKEN")
    .option("-c, --config <file>", "local tools: config file of their security, limits and plugins; env TOOLWIRE_CONFIG")
    .option("--watch", "local tools: reload plugin directories when their files change (clients hear of it)")
    .addOption(
      new Option("--log-level <level>", "level of the logs written to stderr (default warn); env TOOLWIRE_LOG_LEVEL").choices(logLevels),
    )
    .addHelpText(
      "after",
      "\nWithout --remote the calls go through the same pipeline as `toolwire serve` (the config file and\n" +
        "environment configure its authentication and limits); the API key or token is the caller's credential.",
    )
    .action(async (flags: McpFlags) => {
      const env = process.env;
      const remote = flags.remote ?? env.TOOLWIRE_URL;
      const apiKey = flags.apiKey ?? env.TOOLWIRE_API_KEY;
      const token = flags.token ?? env.TOOLWIRE_TOKEN;
      const fail = (message: string): never => {
        process.stderr.write(`toolwire mcp: ${message}\n`);
        process.exit(2);
      };
      if (apiKey !== undefined && token !== undefined) fail("give an API key or a token, not both");
      const [{ createLogger }, mcp] = await Promise.all([import("../logging/index.js"), import("../mcp/index.js")]);
      // Standard output is the protocol: every log line goes to standard error.
      let logger: Logger;
      try {
        logger = createLogger({ level: flags.logLevel ?? env.TOOLWIRE_LOG_LEVEL ?? "warn", destination: 2 });
      } catch (err) {
        return fail((err as Error).message);
      }
      const headers = new Headers();
      if (apiKey !== undefined) headers.set("x-api-key", apiKey);
      if (token !== undefined) headers.set("authorization", `Bearer ${token}`);

      let backend: StdioBackend;
      try {
        if (remote !== undefined) {
          if (flags.config !== undefined) fail("--config configures the local tools; with --remote the server's own config applies");
          backend = remoteBackend(mcp, remote, apiKey, token, logger);
        } else {
          backend = await localBackend(mcp, configPathOf(flags.config, env), flags.watch === true, logger);
        }
      } catch (err) {
        return fail(err instanceof Error ? err.message : String(err));
      }

      const server = mcp.serveMcpOverStdio(backend.source, {
        identity: { caller: { headers, protocol: "mcp" } },
        onError: (err) => logger.warn({ err }, "MCP message failed"),
      });
      logger.info({ remote: remote ?? null }, "toolwire mcp serving on stdio");
      let stopping = false;
      const stop = (code: number) => {
        if (stopping) return;
        stopping = true;
        server
          .close()
          .then(() => backend.close())
          .then(
            () => process.exit(code),
            (err: unknown) => {
              logger.error({ err }, "shutdown failed");
              process.exit(1);
            },
          );
      };
      // The client closing its end is the normal way out; the Connect client's sockets would
      // otherwise keep the process alive.
      void server.closed.then(() => stop(0));
      process.on("SIGTERM", () => stop(0));
      process.on("SIGINT", () => stop(0));
    });
}

function remoteBackend(
  mcp: typeof import("../mcp/index.js"),
  remote: string,
  apiKey: string | undefined,
  token: string | undefined,
  logger: Logger,
): StdioBackend {
  let url: URL;
  try {
    url = new URL(remote);
  } catch {
    throw new Error(`--remote must be the URL of a Toolwire server (like https://tools.example.com), got "${remote}"`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new Error(`--remote must be an http:// or https:// URL, got "${remote}"`);
  }
  const baseUrl = url.href.replace(/\/$/, "");
  return { source: mcp.createRemoteToolSource({ baseUrl, apiKey, token, logger }), close: async () => {} };
}

/**
 * The tools of the app `toolwire serve` builds from the config and environment (the same
 * pipeline, logs, metrics and refusal log), served without listening on a port.
 */
async function localBackend(
  mcp: typeof import("../mcp/index.js"),
  configPath: string | undefined,
  watch: boolean,
  logger: Logger,
): Promise<StdioBackend> {
  const [config, { createToolwireApp }] = await Promise.all([import("../config/index.js"), import("../app/index.js")]);
  const fromFile = configPath === undefined ? {} : await config.loadConfigFile(resolve(configPath));
  const app = await createToolwireApp(config.mergeConfigs(fromFile, config.configFromEnv(process.env)), {
    logger,
    configSource: configPath ?? "(environment)",
    baseDir: configPath === undefined ? process.cwd() : dirname(resolve(configPath)),
  });
  if (watch) {
    if ((app.config.pluginDirs ?? []).length === 0) {
      await app.close(0);
      throw new Error("--watch needs plugin directories (pluginDirs in the config, or TOOLWIRE_PLUGIN_DIRS)");
    }
    app.plugins.watch();
  }
  return {
    source: mcp.createPipelineToolSource(app.registry, app.pipeline),
    close: () => app.close(0),
  };
}
