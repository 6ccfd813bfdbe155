import { dirname, resolve } from "node:path";
import type { Command } from "commander";
import { InvalidArgumentError, Option } from "commander";
import { logLevels } from "../logging/log-levels.js";
import type { ToolwireConfig } from "../config/index.js";
import { configPathOf } from "./project-config.js";

/** Flags of `toolwire serve`; each overrides the config file and the environment. */
interface ServeFlags {
  config?: string;
  host?: string;
  port?: number;
  tlsCert?: string;
  tlsKey?: string;
  maxBodyBytes?: number;
  shutdownGraceMs?: number;
  logLevel?: string;
  logPretty?: boolean;
  logJson?: boolean;
  corsOrigin?: string[];
  allowedHost?: string[];
  trustedProxy?: string[];
  plugins?: string[];
  watch?: boolean;
}

function integer(min: number, max: number) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < min || n > max) {
      throw new InvalidArgumentError(`expected a whole number from ${min} to ${max}`);
    }
    return n;
  };
}

function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

/** The settings the flags give, as a config to merge over the file and the environment. */
function configFromFlags(flags: ServeFlags): ToolwireConfig {
  const tls = flags.tlsCert !== undefined && flags.tlsKey !== undefined ? { certFile: resolve(flags.tlsCert), keyFile: resolve(flags.tlsKey) } : undefined;
  return {
    server: {
      host: flags.host,
      port: flags.port,
      tls,
      shutdownGraceMs: flags.shutdownGraceMs,
      corsOrigins: flags.corsOrigin,
      // commander collects at least one value when the flag is given at all.
      allowedHosts: flags.allowedHost as [string, ...string[]] | undefined,
      trustedProxies: flags.trustedProxy,
    },
    limits: { maxBodyBytes: flags.maxBodyBytes },
    logging: {
      level: flags.logLevel as NonNullable<ToolwireConfig["logging"]>["level"],
      pretty: flags.logJson === true ? false : flags.logPretty,
    },
    pluginDirs: flags.plugins?.map((dir) => resolve(dir)),
  };
}

/** Adds `toolwire serve`: run the server with every built-in tool until SIGTERM or SIGINT. */
export function registerServeCommand(program: Command): void {
  program
    .command("serve")
    .description("serve every tool over Connect, gRPC, gRPC-Web and plain HTTP on one port")
    .option("-c, --config <file>", "JSON config file (schemas/config.schema.json); env TOOLWIRE_CONFIG")
    .option("--host <host>", "interface to listen on (default 127.0.0.1); env TOOLWIRE_HOST")
    .option("--port <port>", "port to listen on, 0 picks a free one (default 8081); env TOOLWIRE_PORT", integer(0, 65535))
    .option("--tls-cert <file>", "PEM certificate: serve TLS with ALPN h2 and http/1.1")
    .option("--tls-key <file>", "PEM private key for --tls-cert")
    .option("--max-body-bytes <n>", "largest request message accepted (default 1048576)", integer(1024, 256 * 1024 * 1024))
    .option("--shutdown-grace-ms <ms>", "how long SIGTERM waits for running calls (default 10000)", integer(0, 3_600_000))
    .addOption(
      new Option("--log-level <level>", "log level (default info); env TOOLWIRE_LOG_LEVEL").choices(logLevels),
    )
    .addOption(
      new Option("--log-pretty", "human-readable log lines (default when stdout is a terminal); env TOOLWIRE_LOG_PRETTY=1").conflicts("logJson"),
    )
    .option("--log-json", "JSON log lines (default when stdout is piped); env TOOLWIRE_LOG_PRETTY=0")
    .option("--cors-origin <origin>", "allow this browser origin (repeatable); env TOOLWIRE_CORS_ORIGINS", collect)
    .option("--allowed-host <host>", "serve this Host header (repeatable); env TOOLWIRE_ALLOWED_HOSTS", collect)
    .option("--trusted-proxy <address>", "trust X-Forwarded-For from this balancer address or CIDR range (repeatable); env TOOLWIRE_TRUSTED_PROXIES", collect)
    .option("--plugins <dir>", "serve the tools of the plugins in this directory (repeatable); env TOOLWIRE_PLUGIN_DIRS", collect)
    .option("--watch", "reload plugins when their files change")
    .addHelpText(
      "after",
      "\nSettings come from the config file, then environment variables, then flags (later wins).\n" +
        "Secrets (JWT secret, Redis URL) come from the environment or files, never from flags.",
    )
    .action(async (flags: ServeFlags) => {
      if ((flags.tlsCert === undefined) !== (flags.tlsKey === undefined)) {
        program.error("toolwire serve: --tls-cert and --tls-key go together");
      }
      const [{ createToolwireApp }, config, { createLogger }] = await Promise.all([
        import("../app/index.js"),
        import("../config/index.js"),
        import("../logging/index.js"),
      ]);
      const configPath = configPathOf(flags.config, process.env);
      let app: import("../app/index.js").ToolwireApp;
      try {
        const fromFile = configPath === undefined ? {} : await config.loadConfigFile(resolve(configPath));
        const merged = config.mergeConfigs(fromFile, config.configFromEnv(process.env), configFromFlags(flags));
        const configSource = configPath === undefined ? "(environment and flags)" : `${configPath} with environment and flags`;
        config.validateConfig(merged, configSource);
        // Unset, a person at a terminal reads pretty lines and a pipe (a log collector) gets JSON.
        const logger = createLogger({ level: merged.logging?.level ?? "info", pretty: merged.logging?.pretty ?? "auto" });
        app = await createToolwireApp(merged, {
          logger,
          configSource,
          baseDir: configPath === undefined ? process.cwd() : dirname(resolve(configPath)),
        });
      } catch (err) {
        process.stderr.write(`toolwire serve: ${err instanceof Error ? err.message : String(err)}\n`);
        process.exit(2);
      }
      const { logger } = app;
      // A broken plugin is reported and skipped; everything else is served.
      for (const failure of app.pluginReport.failures) process.stderr.write(`toolwire serve: plugin ${failure.file}: ${failure.reason}\n`);
      if (flags.watch === true) {
        if ((app.config.pluginDirs ?? []).length === 0) program.error("toolwire serve: --watch needs plugin directories (--plugins or pluginDirs)");
        app.plugins.watch();
      }
      let stopping = false;
      const stop = (signal: NodeJS.Signals) => {
        // A terminal's Ctrl-C can reach us twice (from the group and relayed by a wrapper); the
        // grace period already bounds shutdown, so repeats must not cut the drain short.
        if (stopping) return;
        stopping = true;
        logger.info({ signal }, "stopping");
        app.close().then(
          () => process.exit(0),
          (err: unknown) => {
            logger.error({ err }, "shutdown failed");
            process.exit(1);
          },
        );
      };
      // Before listening: a SIGTERM right after the "listening" line must drain, not kill.
      process.on("SIGTERM", stop);
      process.on("SIGINT", stop);
      try {
        const { url } = await app.listen();
        process.stdout.write(`toolwire listening on ${url} (${app.registry.size} tools)\n`);
      } catch (err) {
        await app.close(0);
        program.error(`toolwire serve: cannot listen on ${app.config.server?.host ?? "127.0.0.1"}:${app.config.server?.port ?? 8081}: ${(err as Error).message}`);
      }
    });
}
