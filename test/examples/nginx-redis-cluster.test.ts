import { spawn, type ChildProcess } from "node:child_process";
import { cp, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createClient } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport } from "@connectrpc/connect-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MonitorService, StatsScope } from "../../gen/proto/toolwire/v1/monitor_service_pb.js";
import { ToolService } from "../../gen/proto/toolwire/v1/tool_service_pb.js";
import { renderNginxConfig } from "../deploy/nginx.js";
import { freePort } from "../helpers/ports.js";
import { killChild } from "../helpers/processes.js";
import { repoRoot } from "../helpers/readme.js";
import { startRedis, type TestRedis } from "../helpers/redis.js";
import { spawnServe, type ServeProcess } from "../helpers/serve-process.js";

const example = join(repoRoot, "examples/nginx-redis-cluster");
/** The example's ports, in the order the test gives them free ones: nginx HTTP, nginx gRPC, instance a, instance b. */
const documented = [8080, 8090, 8091, 8092] as const;

let dir: string;
let ports: number[];
let redis: TestRedis;
const instances: ServeProcess[] = [];
let nginx: ChildProcess;

/** The example's files, copied to `dir` with its ports replaced by free ones (nothing else changes). */
async function copyWithPorts(): Promise<void> {
  await cp(example, dir, { recursive: true });
  for (const file of ["nginx.conf", "toolwire-a.json", "toolwire-b.json"]) {
    let text = await readFile(join(dir, file), "utf8");
    documented.forEach((port, i) => (text = text.replace(new RegExp(`\\b${port}\\b`, "g"), String(ports[i]))));
    await writeFile(join(dir, file), text);
  }
}

async function waitUntilUp(url: string): Promise<void> {
  for (let i = 0; i < 100; i++) {
    if (nginx.exitCode !== null) throw new Error(`nginx exited: ${await readFile(join(dir, "error.log"), "utf8").catch(() => "")}`);
    if (await fetch(`${url}/health`).then((r) => r.ok, () => false)) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error("nginx did not answer /health");
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "toolwire-example-cluster-"));
  ports = await Promise.all(documented.map(() => freePort()));
  await copyWithPorts();
  redis = await startRedis();
  // As its README says, each with its config and the Redis URL in the environment.
  for (const [name, port] of [["a", ports[2]], ["b", ports[3]]] as const) {
    instances.push(await spawnServe(["--config", join(dir, `toolwire-${name}.json`), "--port", String(port)], { TOOLWIRE_REDIS_URL: redis.url }));
  }
  // `nginx -p "$PWD" -c nginx.conf -e error.log`, from the example's folder.
  nginx = spawn("nginx", ["-p", dir, "-c", "nginx.conf", "-e", "error.log"], { cwd: dir, stdio: "ignore" });
  await waitUntilUp(`http://127.0.0.1:${ports[0]}`);
}, 90_000);

afterAll(async () => {
  if (nginx !== undefined) await killChild(nginx, "SIGQUIT");
  for (const instance of instances) await killChild(instance.child, "SIGTERM");
  await redis?.stop();
  await rm(dir, { recursive: true, force: true });
});

describe("examples/nginx-redis-cluster", () => {
  it("configures nginx as the tested template does, for the instances its configs give", async () => {
    const config = await readFile(join(example, "nginx.conf"), "utf8");
    const template = await renderNginxConfig({ dir: ".", httpPort: 8080, grpcPort: 8090, ports: [8091, 8092] });
    const directives = (text: string) => text.replace(/#.*$/gm, "").replace(/\s+/g, " ").replace(/\.\/(\w+)/g, "$1").trim();
    // Only the paths differ: the example's are relative to nginx's -p prefix.
    expect(directives(config).replace(/(\w+)_temp_path \w+_temp/g, "$1_temp_path $1")).toBe(directives(template));
    for (const name of ["a", "b"]) expect(JSON.parse(await readFile(join(example, `toolwire-${name}.json`), "utf8")).redis.url).toEqual({ env: "TOOLWIRE_REDIS_URL" });
  });

  it("serves Connect through nginx's HTTP port and gRPC through its h2c port, from both instances", async () => {
    const servedBy = new Set<string>();
    for (const transport of [createConnectTransport({ baseUrl: `http://127.0.0.1:${ports[0]}`, httpVersion: "1.1" }), createGrpcTransport({ baseUrl: `http://127.0.0.1:${ports[1]}` })]) {
      const tools = createClient(ToolService, transport);
      const monitor = createClient(MonitorService, transport);
      for (let i = 0; i < 4; i++) {
        expect((await tools.callTool({ name: "echo", arguments: { message: "through nginx" } })).structuredContent).toEqual({ message: "through nginx" });
        servedBy.add((await monitor.getServerInfo({})).serverId);
      }
    }
    expect(servedBy.size).toBe(2);
  });

  it("shares membership and statistics through Redis", async () => {
    const monitor = createClient(MonitorService, createConnectTransport({ baseUrl: `http://127.0.0.1:${ports[0]}`, httpVersion: "1.1" }));
    await expect.poll(async () => (await monitor.getServerInfo({})).peers.length).toBe(1);
    // The 8 echo calls above, on both instances, once both heartbeats carried them.
    await expect
      .poll(async () => (await monitor.getStats({ scope: StatsScope.CLUSTER, tools: ["echo"] })).tools.find((t) => t.name === "echo")?.calls)
      .toBe(8n);
  });
});
