import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { SignJWT } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ToolService } from "../../gen/proto/toolwire/v1/tool_service_pb.js";
import { defineTool } from "../../src/registry/index.js";
import type { CallerInfo } from "../../src/runtime/caller.js";
import { anonymousPrincipal, createAuthenticator, createJwtVerifier, hashApiKey } from "../../src/security/index.js";
import { protocolCases, startServer, type TestServer } from "../helpers/server.js";

const apiKey = "tw_authenticator-test-key-42";
const secret = "authenticator-test-secret-of-32-bytes+";
const apiKeys = [{ id: "ci-bot", sha256: hashApiKey(apiKey), level: "restricted" as const, grants: ["ops"] }];
const jwt = createJwtVerifier({ secret });

async function token(claims: Record<string, unknown> = {}, key = secret): Promise<string> {
  return new SignJWT({ sub: "alice", ...claims })
    .setProtectedHeader({ alg: "HS256" })
    .setExpirationTime("5m")
    .sign(new TextEncoder().encode(key));
}

function caller(headers: Record<string, string>): CallerInfo {
  return { headers: new Headers(headers), protocol: "connect", peer: "127.0.0.1" };
}

/** The authenticator's refusal; fails when it accepts. Checks the code and that no secret is echoed. */
async function refusal(
  authenticate: ReturnType<typeof createAuthenticator>,
  headers: Record<string, string>,
): Promise<ConnectError> {
  const error = await Promise.resolve()
    .then(() => authenticate(caller(headers)))
    .then(
      (principal) => {
        throw new Error(`accepted as ${principal.id}`);
      },
      (e: unknown) => e,
    );
  expect(error).toBeInstanceOf(ConnectError);
  const connectError = error as ConnectError;
  expect(connectError.code).toBe(Code.Unauthenticated);
  for (const [name, value] of Object.entries(headers)) {
    const credential = name === "x-api-key" ? value : (/^\S+\s+(.+)$/.exec(value)?.[1] ?? "");
    if (credential.length > 4) expect(connectError.message).not.toContain(credential);
  }
  return connectError;
}

describe("createAuthenticator", () => {
  const authenticate = createAuthenticator({ apiKeys, jwt });

  it("makes a caller without credentials anonymous", async () => {
    expect(await authenticate(caller({}))).toBe(anonymousPrincipal);
  });

  it("accepts an API key in x-api-key", async () => {
    expect(await authenticate(caller({ "x-api-key": apiKey }))).toEqual({
      id: "ci-bot",
      level: "restricted",
      grants: ["ops"],
      anonymous: false,
    });
  });

  it("accepts an API key as a bearer token, whatever the scheme's case", async () => {
    expect((await authenticate(caller({ authorization: `Bearer ${apiKey}` }))).id).toBe("ci-bot");
    expect((await authenticate(caller({ authorization: `bearer  ${apiKey}` }))).id).toBe("ci-bot");
  });

  it("accepts a JWT as a bearer token", async () => {
    const principal = await authenticate(caller({ authorization: `Bearer ${await token({ toolwire_level: "admin" })}` }));
    expect(principal).toEqual({ id: "jwt:alice", level: "admin", grants: [], anonymous: false });
  });

  it("accepts a bearer API key that has the a.b.c shape of a JWT", async () => {
    const dotted = "svc.key.v2";
    const keys = [...apiKeys, { id: "dotted", sha256: hashApiKey(dotted) }];
    for (const authenticateDotted of [createAuthenticator({ apiKeys: keys }), createAuthenticator({ apiKeys: keys, jwt })]) {
      expect((await authenticateDotted(caller({ authorization: `Bearer ${dotted}` }))).id).toBe("dotted");
      expect((await authenticateDotted(caller({ "x-api-key": dotted }))).id).toBe("dotted");
    }
  });

  it("refuses a caller sending both Authorization and x-api-key", async () => {
    const error = await refusal(authenticate, { authorization: `Bearer ${apiKey}`, "x-api-key": apiKey });
    expect(error.message).toContain("not both");
  });

  it("refuses Basic credentials and says what to send", async () => {
    const error = await refusal(authenticate, { authorization: `Basic ${Buffer.from("user:password").toString("base64")}` });
    expect(error.message).toContain("Bearer <API key or token>");
  });

  it.each([
    ["an empty Authorization header", { authorization: "" }],
    ["a bearer scheme without a token", { authorization: "Bearer" }],
    ["a bearer token with a space inside", { authorization: "Bearer two words" }],
  ])("refuses %s instead of treating it as anonymous", async (_name, headers) => {
    const error = await refusal(authenticate, headers);
    expect(error.message).toContain("Bearer <API key or token>");
  });

  it("refuses an empty x-api-key instead of treating it as anonymous", async () => {
    const error = await refusal(authenticate, { "x-api-key": "" });
    expect(error.message).toContain("unknown API key");
  });

  it("refuses an unknown API key in either header", async () => {
    expect((await refusal(authenticate, { "x-api-key": "tw_wrong-key-123" })).message).toContain("unknown API key");
    expect((await refusal(authenticate, { authorization: "Bearer tw_wrong-key-123" })).message).toContain("unknown API key");
  });

  it("refuses a JWT that does not verify, never downgrading it to anonymous", async () => {
    const forged = await token({ toolwire_level: "admin" }, "a-different-secret-of-at-least-32-bytes");
    const error = await refusal(authenticate, { authorization: `Bearer ${forged}` });
    expect(error.message).toContain("signature does not verify");
  });

  it("refuses a JWT when the server has no JWT configuration", async () => {
    const keysOnly = createAuthenticator({ apiKeys });
    const error = await refusal(keysOnly, { authorization: `Bearer ${await token()}` });
    expect(error.message).toContain("accepts no JWT");
  });

  it("refuses an API key when the server has none configured", async () => {
    const jwtOnly = createAuthenticator({ jwt });
    expect((await refusal(jwtOnly, { "x-api-key": apiKey })).message).toContain("accepts no API keys");
    expect((await refusal(jwtOnly, { authorization: `Bearer ${apiKey}` })).message).toContain("accepts no API keys");
  });

  it("still makes callers without credentials anonymous when nothing is configured", async () => {
    expect(await createAuthenticator({})(caller({}))).toBe(anonymousPrincipal);
  });
});

describe("authentication on the wire", () => {
  let server: TestServer;
  beforeAll(async () => {
    const whoami = (name: string, securityLevel: "public" | "authenticated") =>
      defineTool(
        { name, version: "1.0.0", description: `reports the caller (${securityLevel})`, securityLevel, input: { type: "object" } },
        (_input, ctx) => ({ caller: ctx.principal.id, level: ctx.principal.level }),
      );
    server = await startServer({
      tools: [whoami("open", "public"), whoami("members", "authenticated")],
      authenticate: createAuthenticator({ apiKeys, jwt }),
    });
  });
  afterAll(() => server.close());

  describe.each(protocolCases)("over $name", (protocol) => {
    const call = (name: string, headers: Record<string, string>) =>
      createClient(ToolService, protocol.transport(server.url)).callTool({ name, arguments: {} }, { headers });
    const failure = (promise: Promise<unknown>) =>
      promise.then(
        () => {
          throw new Error("the call succeeded");
        },
        (e: unknown) => ConnectError.from(e),
      );

    it("lets an anonymous caller call a public tool", async () => {
      const res = await call("open", {});
      expect(res.structuredContent).toEqual({ caller: "anonymous", level: "public" });
    });

    it("identifies a JWT bearer and an x-api-key caller", async () => {
      const viaJwt = await call("members", { authorization: `Bearer ${await token()}` });
      expect(viaJwt.structuredContent).toEqual({ caller: "jwt:alice", level: "authenticated" });
      const viaKey = await call("members", { "x-api-key": apiKey });
      expect(viaKey.structuredContent).toEqual({ caller: "ci-bot", level: "restricted" });
    });

    it("answers unauthenticated to Basic credentials, even for a public tool", async () => {
      const error = await failure(call("open", { authorization: "Basic dXNlcjpwYXNz" }));
      expect(error.code).toBe(Code.Unauthenticated);
      expect(error.rawMessage).toContain("Bearer <API key or token>");
    });

    it("answers unauthenticated to a wrong key and to two credentials", async () => {
      expect((await failure(call("open", { "x-api-key": "tw_wrong" }))).code).toBe(Code.Unauthenticated);
      const both = await failure(call("open", { authorization: `Bearer ${apiKey}`, "x-api-key": apiKey }));
      expect(both.code).toBe(Code.Unauthenticated);
      expect(both.rawMessage).toContain("not both");
    });
  });
});
