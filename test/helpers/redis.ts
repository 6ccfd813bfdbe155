import { spawn, type ChildProcess } from "node:child_process";
import { readFile } from "node:fs/promises";
import { Redis } from "ioredis";
import { freePort } from "./ports.js";
import { captureOutput, killChild, waitForOutput } from "./processes.js";

/** A redis-server started for a test on a random loopback port. */
export interface TestRedis {
  readonly url: string;
  readonly port: number;
  /** A client connected to it (closed by stop()). */
  readonly client: Redis;
  /** Stops the server (SIGTERM by pid) and the client. */
  stop(): Promise<void>;
}

/** Makes a test redis-server serve only TLS (no plaintext port), without asking clients for certificates. */
export interface TestRedisTls {
  /** The server's certificate (PEM file). */
  readonly certFile: string;
  /** The server's key (PEM file). */
  readonly keyFile: string;
  /** The CA the test's own client trusts (PEM file). */
  readonly caFile: string;
  /** The name the client checks the certificate against, instead of 127.0.0.1. */
  readonly servername?: string;
}

/** Starts `redis-server` on 127.0.0.1 with nothing persisted, over TLS when asked; retries if the port was taken. */
export async function startRedis(options: { tls?: TestRedisTls } = {}): Promise<TestRedis> {
  const { tls } = options;
  const ca = tls === undefined ? undefined : await readFile(tls.caFile, "utf8");
  for (let attempt = 0; attempt < 5; attempt++) {
    const port = await freePort();
    const listen =
      tls === undefined
        ? ["--port", String(port)]
        : ["--port", "0", "--tls-port", String(port), "--tls-cert-file", tls.certFile, "--tls-key-file", tls.keyFile, "--tls-ca-cert-file", tls.caFile, "--tls-auth-clients", "no"];
    const child = spawn("redis-server", [...listen, "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    const { stdout } = captureOutput(child);
    const ready = await waitForOutput(child, stdout, /Ready to accept connections/, 10_000).then(
      () => true,
      () => false,
    );
    if (!ready) {
      await killChild(child, "SIGKILL");
      continue;
    }
    const url = `${tls === undefined ? "redis" : "rediss"}://127.0.0.1:${port}`;
    const client = new Redis(url, {
      lazyConnect: true,
      ...(tls === undefined ? {} : { tls: { ca, ...(tls.servername === undefined ? {} : { servername: tls.servername }) } }),
    });
    try {
      await client.connect();
    } catch (err) {
      await stopRedis(child, client);
      throw err;
    }
    return { url, port, client, stop: () => stopRedis(child, client) };
  }
  throw new Error("could not start redis-server");
}

async function stopRedis(child: ChildProcess, client: Redis): Promise<void> {
  client.disconnect();
  await killChild(child, "SIGTERM");
}
