import { spawn } from "node:child_process";
import { join } from "node:path";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport } from "@connectrpc/connect-node";
import { describe, expect, it } from "vitest";
import { Health } from "../../gen/proto/grpc/health/v1/health_pb.js";
import { toolClient } from "../helpers/server.js";
import { monitorClient, readWatch } from "./monitor-helpers.js";

const root = join(import.meta.dirname, "../..");

describe("monitoring shutdown", () => {
  it("ends every long-lived stream and leaves no timer, listener or socket behind: the process exits by itself", async () => {
    const child = spawn(join(root, "node_modules/.bin/tsx"), [join(import.meta.dirname, "monitor-server-child.ts")], {
      cwd: root,
      stdio: ["pipe", "pipe", "inherit"],
    });
    try {
      let output = "";
      child.stdout.setEncoding("utf8");
      child.stdout.on("data", (chunk: string) => (output += chunk));
      const exited = new Promise<number | null>((resolve) => child.once("exit", resolve));
      await expect.poll(() => output.includes("http://"), { timeout: 20_000 }).toBe(true);
      const url = output.trim().split("\n")[0] as string;

      // Busy streams of every kind: WatchEvents over gRPC and Connect, health Watch, SSE.
      await toolClient(url).callTool({ name: "echo", arguments: { message: "before" } });
      const grpc = createGrpcTransport({ baseUrl: url });
      const connect = createConnectTransport({ baseUrl: url, httpVersion: "1.1" });
      const heartbeats: number[] = [0, 0];
      const watches = [grpc, connect].map((transport, i) =>
        readWatch(
          (signal) => monitorClient(url, transport).watchEvents({ afterSequence: 0n }, { signal }),
          () => false,
          (message) => {
            if (message.kind.case === "heartbeat") heartbeats[i] = (heartbeats[i] ?? 0) + 1;
          },
        ),
      );
      const healthWatch = (async () => {
        try {
          for await (const _ of createClient(Health, grpc).watch({})) {
            // Statuses are checked in the health tests; here only the end matters.
          }
          return undefined;
        } catch (err) {
          return ConnectError.from(err);
        }
      })();
      const sse = fetch(`${url}/events`).then((res) => res.text());
      // Heartbeats are flowing: timers are running on the server.
      await expect.poll(() => heartbeats.every((n) => n >= 2)).toBe(true);

      child.stdin.write("close\n");
      const [grpcWatch, connectWatch] = await Promise.all(watches);
      expect(grpcWatch?.error?.code).toBe(Code.Unavailable);
      expect(connectWatch?.error?.code).toBe(Code.Unavailable);
      expect(await healthWatch).toBeUndefined();
      expect(await sse).toContain("event: stream_error");
      expect(await exited).toBe(0);
      // Heartbeat timers were running before; not even unreferenced ones (which would not hold
      // the process) are left after close.
      const resources = (label: string) => JSON.parse(new RegExp(`^${label} (.*)$`, "m").exec(output)?.[1] ?? "null") as string[];
      expect(resources("closing")).toContain("Timeout");
      expect(resources("closed").filter((r) => r === "Timeout" || r === "Immediate")).toEqual([]);
    } finally {
      if (child.exitCode === null && child.pid !== undefined) child.kill("SIGKILL");
    }
  });
});
