import { spawn, type ChildProcess } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { freePort } from "../helpers/ports.js";
import { killChild } from "../helpers/processes.js";

const template = join(dirname(fileURLToPath(import.meta.url)), "nginx.conf.template");

/** nginx started for a test in front of some instances, on random loopback ports. */
export interface TestNginx {
  /** Base URL of the HTTP/1.1 port. */
  readonly httpUrl: string;
  /** Base URL of the h2c (gRPC) port. */
  readonly grpcUrl: string;
  /** What nginx logged (warnings and errors), to explain a failure. */
  errorLog(): Promise<string>;
  /** Stops nginx (SIGQUIT by pid: graceful) and removes its directory. */
  stop(): Promise<void>;
}

/** The tested nginx configuration for instances on `ports`, nginx listening on `httpPort` and `grpcPort`. */
export async function renderNginxConfig(options: { dir: string; httpPort: number; grpcPort: number; ports: readonly number[] }): Promise<string> {
  const servers = options.ports.map((port) => `    server 127.0.0.1:${port} max_fails=1 fail_timeout=2s;`).join("\n");
  return (await readFile(template, "utf8"))
    .replaceAll("{{dir}}", options.dir)
    .replaceAll("{{http_port}}", String(options.httpPort))
    .replaceAll("{{grpc_port}}", String(options.grpcPort))
    .replaceAll("{{servers}}", servers);
}

/** Renders the template for instances on `ports` and starts nginx in the foreground. */
export async function startNginx(ports: readonly number[]): Promise<TestNginx> {
  const dir = await mkdtemp(join(tmpdir(), "toolwire-nginx-"));
  const path = join(dir, "nginx.conf");
  for (let attempt = 0; attempt < 5; attempt++) {
    const [httpPort, grpcPort] = [await freePort(), await freePort()];
    await writeFile(path, await renderNginxConfig({ dir, httpPort, grpcPort, ports }));
    const child = spawn("nginx", ["-c", path, "-p", dir, "-e", join(dir, "error.log")], { stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    child.stdout?.on("data", (d: Buffer) => (output += d.toString()));
    child.stderr?.on("data", (d: Buffer) => (output += d.toString()));
    const up = await waitUntilUp(`http://127.0.0.1:${httpPort}`, child);
    if (!up) {
      await killChild(child, "SIGKILL");
      if (/Address already in use/.test(output + (await readFile(join(dir, "error.log"), "utf8").catch(() => "")))) continue;
      throw new Error(`nginx did not start: ${output}`);
    }
    return {
      httpUrl: `http://127.0.0.1:${httpPort}`,
      grpcUrl: `http://127.0.0.1:${grpcPort}`,
      errorLog: () => readFile(join(dir, "error.log"), "utf8").catch(() => ""),
      async stop() {
        await killChild(child, "SIGQUIT");
        await rm(dir, { recursive: true, force: true });
      },
    };
  }
  throw new Error("could not start nginx on free ports");
}

async function waitUntilUp(url: string, child: ChildProcess): Promise<boolean> {
  for (let i = 0; i < 100; i++) {
    if (child.exitCode !== null) return false;
    try {
      await fetch(`${url}/health`);
      return true;
    } catch {
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  return false;
}
