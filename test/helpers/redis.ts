import { spawn, type ChildProcess } from "node:child_process";
import { createServer } from "node:net";
import { Redis } from "ioredis";

/** A redis-server started for a test on a random loopback port. */
export interface TestRedis {
  readonly url: string;
  readonly port: number;
  /** A client connected to it (closed by stop()). */
  readonly client: Redis;
  /** Stops the server (SIGTERM by pid) and the client. */
  stop(): Promise<void>;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once("error", reject);
    probe.listen(0, "127.0.0.1", () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });
}

/** Starts `redis-server` on 127.0.0.1 with nothing persisted; retries if the port was taken. */
export async function startRedis(): Promise<TestRedis> {
  for (let attempt = 0; attempt < 5; attempt++) {
    const port = await freePort();
    const child = spawn("redis-server", ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    const ready = await new Promise<boolean>((resolve) => {
      let out = "";
      const onData = (chunk: Buffer) => {
        out += chunk.toString();
        if (out.includes("Ready to accept connections")) resolve(true);
      };
      child.stdout?.on("data", onData);
      child.once("exit", () => resolve(false));
      setTimeout(() => resolve(false), 10_000).unref();
    });
    if (!ready) {
      child.kill("SIGKILL");
      continue;
    }
    child.stdout?.resume();
    child.stderr?.resume();
    const url = `redis://127.0.0.1:${port}`;
    const client = new Redis(url, { lazyConnect: true });
    await client.connect();
    return { url, port, client, stop: () => stopRedis(child, client) };
  }
  throw new Error("could not start redis-server");
}

async function stopRedis(child: ChildProcess, client: Redis): Promise<void> {
  client.disconnect();
  if (child.exitCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  child.kill("SIGTERM");
  await exited;
}
