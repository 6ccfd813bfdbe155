import { execFile, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { Code, ConnectError } from "@connectrpc/connect";
import { SignJWT } from "jose";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { hashApiKey } from "../../src/security/index.js";
import { startServe, waitForListening } from "../helpers/serve-process.js";
import { toolClient } from "../helpers/server.js";

const root = join(import.meta.dirname, "../..");
const run = promisify(execFile);
const apiKey = "tw_serve-config-test-key-0123456789";
const jwtSecret = "serve-config-test-jwt-secret-32-bytes!";

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "toolwire-serve-config-"));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

const children: ChildProcess[] = [];
afterEach(async () => {
  for (const child of children.splice(0)) {
    if (child.exitCode !== null || child.signalCode !== null) continue;
    const exited = once(child, "exit");
    child.kill("SIGKILL");
    await exited;
  }
});

let files = 0;
async function configFile(content: unknown): Promise<string> {
  const path = join(dir, `toolwire-${++files}.json`);
  await writeFile(path, typeof content === "string" ? content : JSON.stringify(content));
  return path;
}

/** Spawns `toolwire serve` through the package's bin entry; afterEach stops it. */
function spawnServe(args: string[], env: Record<string, string> = {}): { child: ChildProcess; output: () => { stdout: string; stderr: string } } {
  const serve = startServe(args, env);
  children.push(serve.child);
  return { child: serve.child, output: () => ({ stdout: serve.stdout(), stderr: serve.stderr() }) };
}

/** Starts `toolwire serve` and waits for its "toolwire listening on URL" line. */
async function serve(args: string[], env: Record<string, string> = {}): Promise<{ child: ChildProcess; url: string }> {
  const started = startServe(args, env);
  children.push(started.child);
  return { child: started.child, url: await waitForListening(started, 20_000) };
}

/** Runs `toolwire serve` that must refuse to start; returns its exit code and stderr. */
async function refusedStart(args: string[], env: Record<string, string> = {}): Promise<{ code: number | null; stderr: string }> {
  const { child, output } = spawnServe(args, env);
  const [code] = (await once(child, "exit")) as [number | null];
  // Output still in the pipes arrives before close.
  if (child.stdout?.readableEnded === false) await once(child.stdout, "close");
  if (child.stderr?.readableEnded === false) await once(child.stderr, "close");
  expect(output().stdout).not.toContain("listening");
  return { code, stderr: output().stderr };
}

/**
 * Stops a server by its pid and waits for it to exit. A SIGTERM that arrives the moment the
 * "listening" line does can beat the command's signal handlers (they are installed after the
 * line is written), so this first waits for the server to answer a request.
 */
async function stop(child: ChildProcess, url: string): Promise<number | null> {
  await fetch(`${url}/health`);
  const exited = once(child, "exit");
  process.kill(child.pid as number, "SIGTERM");
  const [code] = (await exited) as [number | null];
  return code;
}

/** Holds a loopback port so that nothing else can listen on it. */
async function holdPort(): Promise<{ port: number; server: Server }> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { port: (server.address() as { port: number }).port, server };
}

const goodConfig = {
  server: { port: 0 },
  auth: { apiKeys: [{ id: "ci-bot", sha256: hashApiKey(apiKey), level: "authenticated" }] },
  logging: { level: "warn" },
};

describe("toolwire serve --config: refusing to start", () => {
  it("exits 2 with the file, the pointer and the reason for a bad file", async () => {
    const path = await configFile({ server: { port: "8081", hots: "x" }, auth: { apiKeys: [{ id: "a", sha256: "abc" }] } });
    const { code, stderr } = await refusedStart(["--config", path]);
    expect(code).toBe(2);
    expect(stderr).toContain(`invalid configuration ${path}:`);
    expect(stderr).toContain("/server/port: must be integer");
    expect(stderr).toContain("/server/hots: is not allowed (unknown property)");
    expect(stderr).toContain("/auth/apiKeys/0/sha256: must match pattern");
    expect(stderr).not.toMatch(/\n\s+at /);
  });

  it("exits 2 for a file that is not JSON", async () => {
    const path = await configFile("{ server: ");
    const { code, stderr } = await refusedStart(["--config", path]);
    expect(code).toBe(2);
    expect(stderr).toContain(path);
    expect(stderr).toContain("is not JSON");
  });

  it("exits 2 for a missing file, naming it relative to where it was given", async () => {
    const { code, stderr } = await refusedStart(["--config", "no/such/toolwire.json"]);
    expect(code).toBe(2);
    expect(stderr).toContain(join(root, "no/such/toolwire.json"));
    expect(stderr).toContain("no such file");
  });

  it("exits 2 when TOOLWIRE_PORT is not a number", async () => {
    const { code, stderr } = await refusedStart([], { TOOLWIRE_PORT: "eighty" });
    expect(code).toBe(2);
    expect(stderr).toContain('/server/port: TOOLWIRE_PORT="eighty" must be a whole number');
  });

  it("exits 2 naming the variable when a configured secret variable is unset", async () => {
    const path = await configFile({ server: { port: 0 }, auth: { jwt: { secret: { env: "SERVE_TEST_JWT_SECRET" } } } });
    const { code, stderr } = await refusedStart(["--config", path]);
    expect(code).toBe(2);
    expect(stderr).toContain("/auth/jwt/secret: environment variable SERVE_TEST_JWT_SECRET is not set");
  });

  it("exits 2 with the password redacted when Redis cannot be reached", async () => {
    const { port, server } = await holdPort();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    const path = await configFile({ server: { port: 0 } });
    const { code, stderr } = await refusedStart(["--config", path], { TOOLWIRE_REDIS_URL: `redis://:hunter2-redis-pw@127.0.0.1:${port}` });
    expect(code).toBe(2);
    expect(stderr).toContain(`cannot reach Redis at redis://:***@127.0.0.1:${port}`);
    expect(stderr).not.toContain("hunter2-redis-pw");
  });

  it("exits 2 for a Redis URL it cannot parse, never echoing it nor falling back to 127.0.0.1:6379", async () => {
    // An unescaped "/" in the password: the legacy url.parse read this as host "" (127.0.0.1:6379)
    // and printed the whole URL in a DEP0170 warning.
    const path = await configFile({ server: { port: 0 }, redis: { url: { env: "SERVE_TEST_REDIS_URL" }, connectTimeoutMs: 100 } });
    const { code, stderr } = await refusedStart(["--config", path], { SERVE_TEST_REDIS_URL: "redis://:hunter2/redis-pw@127.0.0.1:6390" });
    expect(code).toBe(2);
    expect(stderr).toContain("invalid configuration environment variable SERVE_TEST_REDIS_URL:");
    expect(stderr).toContain("/redis/url: is not a valid URL");
    expect(stderr).not.toContain("hunter2");
    expect(stderr).not.toContain("DEP0170");
  });
});

describe("toolwire serve --config: a configured server", () => {
  it("identifies a caller by its API key, serves anonymous callers public tools, refuses a wrong key", async () => {
    const { child, url } = await serve(["--config", await configFile(goodConfig)]);
    const client = toolClient(url);

    const withKey = await client.listTools({}, { headers: { authorization: `Bearer ${apiKey}` } });
    expect(withKey.tools.map((t) => t.name)).toContain("list_processes");
    const called = await client.callTool({ name: "echo", arguments: { message: "hi" } }, { headers: { "x-api-key": apiKey } });
    expect(called.isError).toBe(false);

    const anonymous = await client.listTools({});
    expect(anonymous.tools.map((t) => t.name)).not.toContain("list_processes");
    expect((await client.callTool({ name: "echo", arguments: { message: "hi" } })).isError).toBe(false);
    // Hidden from anonymous callers, so it answers as if it did not exist.
    const needsKey = await client.callTool({ name: "list_processes", arguments: {} }).catch((e: unknown) => ConnectError.from(e));
    expect(needsKey).toMatchObject({ code: Code.NotFound, rawMessage: 'tool "list_processes" not found' });

    const wrongKey = await client
      .callTool({ name: "echo", arguments: { message: "hi" } }, { headers: { authorization: "Bearer tw_wrong-key" } })
      .catch((e: unknown) => ConnectError.from(e));
    expect(wrongKey).toMatchObject({ code: Code.Unauthenticated });
    expect((wrongKey as ConnectError).rawMessage).toBe("invalid credentials: unknown API key");

    expect(await stop(child, url)).toBe(0);
  });

  it("answers a hidden tool's call with its real refusal when auth.revealHiddenTools is set", async () => {
    const { child, url } = await serve(["--config", await configFile({ ...goodConfig, auth: { ...goodConfig.auth, revealHiddenTools: true } })]);
    const refused = await toolClient(url)
      .callTool({ name: "list_processes", arguments: {} })
      .catch((e: unknown) => ConnectError.from(e));
    expect(refused).toMatchObject({ code: Code.Unauthenticated });
    expect((refused as ConnectError).rawMessage).toContain("requires an authenticated caller");
    expect(await stop(child, url)).toBe(0);
  });

  it("answers curl with the key, and a wrong key with 401 unauthenticated", async () => {
    const { child, url } = await serve(["--config", await configFile(goodConfig)]);
    const curl = (...headers: string[]) =>
      run("curl", [
        "-s",
        "-w",
        "\n%{http_code}",
        ...headers.flatMap((h) => ["-H", h]),
        "-H",
        "Content-Type: application/json",
        "-d",
        '{"name":"list_processes","arguments":{"limit":1}}',
        `${url}/toolwire.v1.ToolService/CallTool`,
      ]);
    const ok = await curl(`Authorization: Bearer ${apiKey}`);
    expect(ok.stdout.endsWith("\n200")).toBe(true);
    expect(JSON.parse(ok.stdout.slice(0, ok.stdout.lastIndexOf("\n")))).toMatchObject({ toolName: "list_processes" });
    const refused = await curl("x-api-key: tw_wrong-key");
    expect(refused.stdout.endsWith("\n401")).toBe(true);
    expect(refused.stdout).toContain('"code":"unauthenticated"');
    expect(await stop(child, url)).toBe(0);
  });

  it("accepts a JWT signed with the secret from TOOLWIRE_JWT_SECRET", async () => {
    const { child, url } = await serve(["--config", await configFile(goodConfig)], { TOOLWIRE_JWT_SECRET: jwtSecret });
    const token = await new SignJWT({ sub: "alice" }).setProtectedHeader({ alg: "HS256" }).setExpirationTime("5m").sign(new TextEncoder().encode(jwtSecret));
    const res = await toolClient(url).listTools({}, { headers: { authorization: `Bearer ${token}` } });
    expect(res.tools.map((t) => t.name)).toContain("list_processes");
    expect(await stop(child, url)).toBe(0);
  });

  it("lets TOOLWIRE_JWT_SECRET replace the file's JWT secret file", async () => {
    await writeFile(join(dir, "file-jwt.secret"), "the-secret-in-the-file-of-32-bytes-or-more");
    const path = await configFile({ ...goodConfig, auth: { jwt: { secret: { file: "file-jwt.secret" } } } });
    const { child, url } = await serve(["--config", path], { TOOLWIRE_JWT_SECRET: jwtSecret });
    const token = await new SignJWT({ sub: "alice" }).setProtectedHeader({ alg: "HS256" }).setExpirationTime("5m").sign(new TextEncoder().encode(jwtSecret));
    const res = await toolClient(url).listTools({}, { headers: { authorization: `Bearer ${token}` } });
    expect(res.tools.map((t) => t.name)).toContain("list_processes");
    expect(await stop(child, url)).toBe(0);
  });

  it("lets TOOLWIRE_PORT override the file's port", async () => {
    const held = await holdPort();
    try {
      const path = await configFile({ ...goodConfig, server: { port: held.port } });
      const { child, url } = await serve(["--config", path], { TOOLWIRE_PORT: "0" });
      expect(new URL(url).port).not.toBe(String(held.port));
      expect((await fetch(`${url}/health`)).status).toBe(200);
      expect(await stop(child, url)).toBe(0);
    } finally {
      held.server.close();
    }
  });

  it("lets --port override TOOLWIRE_PORT", async () => {
    const held = await holdPort();
    try {
      const { child, url } = await serve(["--config", await configFile(goodConfig), "--port", "0"], { TOOLWIRE_PORT: String(held.port) });
      expect(new URL(url).port).not.toBe(String(held.port));
      expect(await stop(child, url)).toBe(0);
    } finally {
      held.server.close();
    }
  });

  it("uses the file's port when nothing overrides it", async () => {
    const held = await holdPort();
    try {
      const path = await configFile({ ...goodConfig, server: { port: held.port } });
      const { child, output } = spawnServe(["--config", path]);
      const [code] = (await once(child, "exit")) as [number | null];
      expect(code).not.toBe(0);
      expect(output().stderr).toContain(`cannot listen on 127.0.0.1:${held.port}`);
    } finally {
      held.server.close();
    }
  });
});
