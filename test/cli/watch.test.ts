import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { keyCaller } from "../helpers/security.js";
import { toolClient } from "../helpers/server.js";
import { createTestTools } from "../helpers/test-tools.js";
import { closedPort } from "../helpers/ports.js";
import { killLeftoverProcesses, runCli, spawnCli, startCliServer, type CliProcess, type CliTestServer } from "./cli-process.js";

let server: CliTestServer;
let env: Record<string, string>;
let servers: CliTestServer[] = [];

beforeAll(async () => {
  server = await startCliServer({ tools: createTestTools().tools });
  env = { TOOLWIRE_URL: server.url };
});
afterAll(() => server?.close());
afterEach(async () => {
  killLeftoverProcesses();
  await Promise.all(servers.map((s) => s.close()));
  servers = [];
});

/** Calls a tool directly (not through the CLI), ignoring whether it succeeds. */
async function callDirectly(url: string, name: string, args: Record<string, string | number> = {}): Promise<void> {
  await toolClient(url)
    .callTool({ name, arguments: args })
    .catch(() => undefined);
}

/**
 * Keeps calling echo until the watch has printed `lines` lines: the watch subscribes some time
 * after it starts, and only calls made after that are live events for it.
 */
async function echoUntilPrinted(cli: CliProcess, url: string, lines: number): Promise<void> {
  await expect
    .poll(
      async () => {
        await callDirectly(url, "echo", { message: "ping" });
        return cli.output().stdout.split("\n").filter(Boolean).length;
      },
      { timeout: 15_000, interval: 100 },
    )
    .toBeGreaterThanOrEqual(lines);
}

/** The line a watch writes to stderr once connected to `url`. */
const waitingLine = (url: string) => `toolwire watch: watching events on ${url}; waiting for events (Ctrl-C to stop)\n`;

const eventLine = (type: string, tool: string) => new RegExp(`^#\\d+ ${type} ${tool.replace(".", "\\.")} caller=anonymous`);

describe("toolwire watch", () => {
  it("prints one line per live event that matches its filters, and exits 0 after --count", async () => {
    const cli = spawnCli(["watch", "--tools", "echo", "--types", "tool_succeeded", "--count", "2"], { env });
    let exited = false;
    void cli.exited.then(() => (exited = true));
    while (!exited) {
      await callDirectly(server.url, "calculator", { operation: "add", a: 1, b: 2 });
      await callDirectly(server.url, "echo", { message: "watched" });
      await sleep(50);
    }
    const { code, stdout, stderr } = await cli.exited;
    expect(stderr).toBe(waitingLine(server.url));
    expect(code).toBe(0);
    const lines = stdout.trimEnd().split("\n");
    expect(lines).toHaveLength(2);
    for (const line of lines) expect(line).toMatch(/^#\d+ tool_succeeded echo@1\.0\.0 caller=anonymous \d+(\.\d)?ms$/);
  });

  it("replays the events after --after and shows failures and denials with their code and message", async () => {
    // A watcher sees events only of tools it may list: "members" needs an authenticated reader.
    const reader = keyCaller("cli-reader", "authenticated");
    const own = await startCliServer({ tools: createTestTools().tools, config: { auth: { apiKeys: [reader.entry!] } } });
    servers.push(own);
    await callDirectly(own.url, "refuse");
    await callDirectly(own.url, "members");
    const { code, stdout } = await runCli(["watch", "--after", "0", "--types", "tool_failed,tool_denied", "--tools", "refuse", "--tools", "members", "--count", "2"], {
      env: { TOOLWIRE_URL: own.url, TOOLWIRE_API_KEY: reader.key! },
    });
    expect(code).toBe(0);
    const [failed, denied] = stdout.trimEnd().split("\n");
    expect(failed).toMatch(/^#\d+ tool_failed refuse@1\.0\.0 caller=anonymous code=tool_error \d+(\.\d)?ms "the tool answered an error result"$/);
    expect(denied).toMatch(/^#\d+ tool_denied members caller=anonymous code=unauthenticated .*"tool \\"members\\" requires an authenticated caller; send credentials/);
  });

  it("prints each event as one JSON object per line with --json", async () => {
    await callDirectly(server.url, "echo", { message: "for json" });
    const { code, stdout } = await runCli(["watch", "--after", "0", "--tools", "echo", "--count", "2", "--json"], { env });
    expect(code).toBe(0);
    const events = stdout
      .trimEnd()
      .split("\n")
      .map((line) => JSON.parse(line) as { sequence: string; type: string; toolName: string });
    expect(events).toHaveLength(2);
    expect(events.map((e) => [e.type, e.toolName])).toEqual([
      ["EVENT_TYPE_TOOL_CALLED", "echo"],
      ["EVENT_TYPE_TOOL_SUCCEEDED", "echo"],
    ]);
    expect(BigInt(events[1]!.sequence)).toBeGreaterThan(BigInt(events[0]!.sequence));
  });

  it.each(["SIGINT", "SIGTERM"] as const)("stops watching and exits 0 on %s", async (signal) => {
    const cli = spawnCli(["watch", "--tools", "echo"], { env });
    await echoUntilPrinted(cli, server.url, 1);
    cli.child.kill(signal);
    const { code, stdout, stderr } = await cli.exited;
    expect(code).toBe(0);
    expect(stderr).toBe(waitingLine(server.url));
    expect(stdout.split("\n")[0]).toMatch(eventLine("tool_called", "echo@1.0.0"));
  });

  it("says on stderr that it is waiting once connected, before any event arrives", async () => {
    const cli = spawnCli(["watch", "--tools", "no_such_tool"], { env: { TOOLWIRE_URL: `${server.url}/` } });
    await expect.poll(() => cli.output().stderr, { timeout: 15_000 }).toBe(waitingLine(server.url));
    cli.child.kill("SIGINT");
    const { code, stdout } = await cli.exited;
    expect(code).toBe(0);
    expect(stdout).toBe("");
  });

  it("reconnects when the server goes away and comes back, saying so on stderr", async () => {
    const first = await startCliServer({ tools: [] });
    servers.push(first);
    const port = new URL(first.url).port;
    const cli = spawnCli(["watch", "--tools", "echo", "--types", "tool_succeeded"], { env: { TOOLWIRE_URL: first.url } });
    await echoUntilPrinted(cli, first.url, 1);
    await first.close();
    await expect.poll(() => cli.output().stderr, { timeout: 10_000 }).toContain("toolwire watch: lost the event stream");
    const second = await startCliServer({ tools: [], port: Number(port) });
    servers.push(second);
    await echoUntilPrinted(cli, second.url, 2);
    // stderr is a pipe of its own: its line may reach us a moment after the event's.
    await expect.poll(() => cli.output().stderr).toContain("toolwire watch: reconnected\n");
    cli.child.kill("SIGINT");
    expect((await cli.exited).code).toBe(0);
  });

  it("exits 4 when no server answers", async () => {
    const url = `http://127.0.0.1:${await closedPort()}`;
    const { code, stderr } = await runCli(["watch", "--url", url], { env });
    expect(code).toBe(4);
    expect(stderr).toBe(`toolwire watch: cannot reach the server at ${url}: connect ECONNREFUSED ${url.slice("http://".length)}\n`);
  });

  it("exits 3 with the server's reason when it refuses the watch, and watches with credentials", async () => {
    const operator = keyCaller("cli-operator", "authenticated");
    const guarded = await startCliServer({ tools: [], config: { monitoring: { level: "authenticated" }, auth: { apiKeys: [operator.entry!] } } });
    servers.push(guarded);
    const refused = await runCli(["watch"], { env: { TOOLWIRE_URL: guarded.url } });
    expect(refused.code).toBe(3);
    expect(refused.stderr).toMatch(/^toolwire watch: unauthenticated: .+\n$/);
    const allowed = await runCli(["watch", "--after", "0", "--count", "1"], { env: { TOOLWIRE_URL: guarded.url, TOOLWIRE_API_KEY: operator.key! } });
    expect(allowed.code).toBe(0);
    expect(allowed.stdout).toMatch(/^#\d+ server_status serving "serving \d+ tools"\n$/);
  });

  it.each([
    [["--types", "tool_exploded"], `unknown event type "tool_exploded"`],
    [["--after", "-1"], "expected an event sequence number"],
    [["--count", "0"], "expected a whole number ≥ 1"],
    [["--timeout", "100"], "unknown option '--timeout'"],
  ])("refuses %j with exit 2", async (args, reason) => {
    const { code, stderr } = await runCli(["watch", ...args], { env });
    expect(code).toBe(2);
    expect(stderr).toContain(reason);
  });
});
