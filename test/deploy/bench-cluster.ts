// `npx tsx test/deploy/bench-cluster.ts [seconds] [connections]`: throughput of the echo
// CallTool (Connect JSON over HTTP/1.1) against one `toolwire serve` instance directly, and
// against one and two instances sharing Redis behind nginx (test/deploy/nginx.conf.template).
// Every process runs on this machine, the load generator (autocannon) included.
import { callToolBody, callToolPath, jsonHeaders } from "../bench/bench-targets.js";
import { runLoad } from "../bench/run-load.js";
import { startRedis } from "../helpers/redis.js";
import { freePort, killChild, spawnServe, type ServeProcess } from "../cluster/cluster-helpers.js";
import { startNginx } from "./nginx.js";

const seconds = Number(process.argv[2] ?? 10);
const connections = Number(process.argv[3] ?? 32);

async function measure(label: string, baseUrl: string): Promise<void> {
  // A short warm-up so JIT and connection set-up are not measured.
  await runLoad({ url: `${baseUrl}${callToolPath}`, connections, durationSeconds: 2, headers: jsonHeaders, body: callToolBody });
  const r = await runLoad({ url: `${baseUrl}${callToolPath}`, connections, durationSeconds: seconds, headers: jsonHeaders, body: callToolBody });
  const rps = Math.round(r.ok / r.elapsedSeconds);
  console.log(`${label.padEnd(44)} ${String(rps).padStart(6)} calls/s  p50 ${r.p50Ms.toFixed(1)} ms  p99 ${r.p99Ms.toFixed(1)} ms  non-2xx ${r.non2xx}  errors ${r.errors}`);
}

const redis = await startRedis();
const instances: ServeProcess[] = [];
try {
  const ports = [await freePort(), await freePort()];
  for (const port of ports) instances.push(await spawnServe(["--port", String(port)], { TOOLWIRE_REDIS_URL: redis.url }));
  console.log(`echo CallTool, Connect JSON over HTTP/1.1, ${connections} connections, ${seconds} s per run`);
  await measure("1 instance + Redis, direct", `http://127.0.0.1:${ports[0]}`);
  for (const count of [1, 2]) {
    const nginx = await startNginx(ports.slice(0, count));
    try {
      await measure(`${count} instance${count > 1 ? "s" : ""} + Redis behind nginx`, nginx.httpUrl);
    } finally {
      await nginx.stop();
    }
  }
} finally {
  for (const instance of instances) await killChild(instance.child, "SIGTERM");
  await redis.stop();
}
