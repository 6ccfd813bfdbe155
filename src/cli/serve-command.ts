import { readFile } from "node:fs/promises";
import type { Command } from "commander";
import { InvalidArgumentError } from "commander";

/** Options of `toolwire serve`. */
interface ServeOptions {
  host: string;
  port: number;
  tlsCert?: string;
  tlsKey?: string;
  maxBodyBytes: number;
  shutdownGraceMs: number;
  logLevel: string;
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

/** Adds `toolwire serve`: run the server with every built-in tool until SIGTERM or SIGINT. */
export function registerServeCommand(program: Command): void {
  program
    .command("serve")
    .description("serve every tool over Connect, gRPC, gRPC-Web and plain HTTP on one port")
    .option("--host <host>", "interface to listen on", process.env.TOOLWIRE_HOST ?? "127.0.0.1")
    .option("--port <port>", "port to listen on (0 picks a free one)", integer(0, 65535), Number(process.env.TOOLWIRE_PORT ?? 8081))
    .option("--tls-cert <file>", "PEM certificate: serve TLS with ALPN h2 and http/1.1")
    .option("--tls-key <file>", "PEM private key for --tls-cert")
    .option("--max-body-bytes <n>", "largest request message accepted", integer(1024, 256 * 1024 * 1024), 1024 * 1024)
    .option("--shutdown-grace-ms <ms>", "how long SIGTERM waits for running calls", integer(0, 3_600_000), 10_000)
    .option("--log-level <level>", "fatal, error, warn, info, debug, trace or silent", process.env.TOOLWIRE_LOG_LEVEL ?? "info")
    .action(async (opts: ServeOptions) => {
      if ((opts.tlsCert === undefined) !== (opts.tlsKey === undefined)) {
        program.error("toolwire serve: --tls-cert and --tls-key go together");
      }
      const [{ composeServer }, { pino }] = await Promise.all([import("./compose-server.js"), import("pino")]);
      const logger = pino({ level: opts.logLevel });
      const tls =
        opts.tlsCert !== undefined && opts.tlsKey !== undefined
          ? { cert: await readFile(opts.tlsCert), key: await readFile(opts.tlsKey) }
          : undefined;
      const server = composeServer({
        host: opts.host,
        port: opts.port,
        maxBodyBytes: opts.maxBodyBytes,
        shutdownGraceMs: opts.shutdownGraceMs,
        logger,
        ...(tls ? { tls } : {}),
      });
      try {
        const { url } = await server.listen();
        process.stdout.write(`toolwire listening on ${url} (${server.registry.size} tools)\n`);
      } catch (err) {
        program.error(`toolwire serve: cannot listen on ${opts.host}:${opts.port}: ${(err as Error).message}`);
      }
      let stopping = false;
      const stop = (signal: NodeJS.Signals) => {
        // A terminal's Ctrl-C reaches us twice under tsx (from the group and relayed); the grace
        // period already bounds shutdown, so repeats must not cut the drain short.
        if (stopping) return;
        stopping = true;
        logger.info({ signal }, "stopping");
        server.close().then(
          () => process.exit(0),
          (err: unknown) => {
            logger.error({ err }, "shutdown failed");
            process.exit(1);
          },
        );
      };
      process.on("SIGTERM", stop);
      process.on("SIGINT", stop);
    });
}
