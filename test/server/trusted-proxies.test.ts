import { Code, ConnectError } from "@connectrpc/connect";
import { afterEach, describe, expect, it } from "vitest";
import { echo } from "../../src/tools/echo.js";
import { startServer, toolClient, type TestServer } from "../helpers/server.js";

const servers: TestServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function serverWith(trustedProxies: readonly string[] | undefined): Promise<TestServer> {
  const server = await startServer({
    tools: [echo],
    ...(trustedProxies === undefined ? {} : { trustedProxies }),
    requestLimits: { anonymousPerIp: { maxCalls: 2, windowSeconds: 60 } },
  });
  servers.push(server);
  return server;
}

/** The outcome of one echo call sent as if through a balancer that saw `client`. */
async function callAs(server: TestServer, client: string): Promise<string> {
  try {
    await toolClient(server.url).callTool({ name: "echo", arguments: { message: "hi" } }, { headers: { "x-forwarded-for": client } });
    return "ok";
  } catch (err) {
    const error = ConnectError.from(err);
    return error.code === Code.ResourceExhausted ? `limited: ${error.rawMessage}` : `error: ${error.rawMessage}`;
  }
}

describe("server.trustedProxies", () => {
  it("gives each client behind a trusted balancer its own per-address budget", async () => {
    const server = await serverWith(["127.0.0.1"]);
    const first = [await callAs(server, "203.0.113.5"), await callAs(server, "203.0.113.5"), await callAs(server, "203.0.113.5")];
    expect(first.slice(0, 2)).toEqual(["ok", "ok"]);
    expect(first[2]).toMatch(/^limited: .*anonymous callers from 203\.0\.113\.5/);
    // Another client behind the same balancer still has its whole budget.
    expect(await callAs(server, "203.0.113.6")).toBe("ok");
  });

  it("ignores X-Forwarded-For when no balancer is trusted, so a client cannot pick a fresh address", async () => {
    const server = await serverWith(undefined);
    const outcomes = [await callAs(server, "203.0.113.5"), await callAs(server, "203.0.113.6"), await callAs(server, "203.0.113.7")];
    expect(outcomes.slice(0, 2)).toEqual(["ok", "ok"]);
    expect(outcomes[2]).toMatch(/^limited: .*anonymous callers from 127\.0\.0\.1/);
  });

  it("refuses to start with an entry that is not an address or a range", async () => {
    await expect(startServer({ trustedProxies: ["balancer.example"] })).rejects.toThrow(/"balancer\.example" is not an IP address or a CIDR range/);
  });
});
