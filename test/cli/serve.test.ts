import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { join } from "node:path";
import { Code, ConnectError } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { afterEach, describe, expect, it } from "vitest";
import { createPluginDir, pluginModule } from "../helpers/plugin-files.js";
import { startServe, waitForListening, type ServeProcess } from "../helpers/serve-process.js";
import { toolClient } from "../helpers/server.js";
import { toolwireBin } from "../helpers/toolwire-bin.js";

const root = join(import.meta.dirname, "../..");
const children: ChildProcess[] = [];
afterEach(() => {
  for (const child of children.splice(0)) if (child.exitCode === null) child.kill("SIGKILL");
});

/** Starts `toolwire serve` through the package's bin entry and waits for its address. */
async function serve(args: string[]): Promise<ServeProcess> {
  const started = startServe(["--port", "0", ...args]);
  children.push(started.child);
  return { ...started, url: await waitForListening(started, 15_000) };
}

describe("toolwire serve", () => {
  it("serves every built-in tool", async () => {
    const { url } = await serve([]);
    const res = await toolClient(url).listTools({});
    expect(res.tools.map((t) => t.name)).toEqual(["calculator", "echo", "monitor_resources", "system_info"]);
    const health = (await (await fetch(`${url}/health`)).json()) as { tools: number };
    expect(health.tools).toBe(7);
  });

  it("drains a running call on SIGTERM, refuses new ones with unavailable, then exits 0", async () => {
    const { child, url } = await serve(["--shutdown-grace-ms", "10000"]);
    const client = toolClient(url, createConnectTransport({ baseUrl: url, httpVersion: "2" }));
    await client.callTool({ name: "echo", arguments: { message: "warm up the connection" } });
    // A keep-alive connection for /health: once draining, the port accepts no new connections.
    const warm = await fetch(`${url}/health`);
    await warm.text();
    expect(warm.status).toBe(200);
    let firstMessage: () => void = () => {};
    const started = new Promise<void>((resolve) => (firstMessage = resolve));
    const running = (async () => {
      let last: unknown;
      for await (const msg of client.callToolStream({ name: "monitor_resources", arguments: { duration: 1.5, interval: 0.5 } })) {
        last = msg.event.case;
        firstMessage();
      }
      return last;
    })();
    await started;
    const exited = once(child, "exit");
    child.kill("SIGTERM");
    await expect.poll(async () => (await fetch(`${url}/health`)).status).toBe(503);
    // The HTTP/2 connection (busy with the stream) got its GOAWAY when the drain began; a call sent
    // after the client read it finds the port closed. (One crossing the GOAWAY would be refused
    // unprocessed with REFUSED_STREAM; the pause lets the client read the GOAWAY first.)
    await new Promise((resolve) => setTimeout(resolve, 50));
    const refused = await client.callTool({ name: "echo", arguments: { message: "late" } }).then(
      () => undefined,
      (e: unknown) => ConnectError.from(e),
    );
    expect(refused?.code).toBe(Code.Unavailable);
    expect(await running).toBe("result");
    const [code] = await exited;
    expect(code).toBe(0);
  });

  it("refuses a bad flag with a one-line reason and a non-zero exit", async () => {
    const child = spawn(process.execPath, [toolwireBin, "serve", "--port", "99999"], { cwd: root });
    children.push(child);
    let stderr = "";
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    const [code] = await once(child, "exit");
    expect(code).not.toBe(0);
    expect(stderr).toContain("expected a whole number from 0 to 65535");
  });

  it("serves plugin tools, reports a broken plugin with its file and reason, and keeps serving", async () => {
    const dir = await createPluginDir();
    try {
      await dir.write("good.mjs", pluginModule("good_plugin", "1.0.0", "served"));
      const broken = await dir.write("broken.mjs", "export const tool = {;\n");
      const { url, output } = await serve(["--plugins", dir.path]);
      const res = await toolClient(url).callTool({ name: "good_plugin" });
      expect(res.structuredContent).toEqual({ says: "served" });
      expect(output()).toContain(`toolwire serve: plugin ${broken}: cannot load broken.mjs`);
      expect((await toolClient(url).listTools({})).tools.map((t) => t.name)).toContain("good_plugin");
    } finally {
      await dir.remove();
    }
  });
});
