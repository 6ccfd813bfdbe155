import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { validateConfig } from "../../src/config/index.js";
import { createApiKeyVerifier } from "../../src/security/index.js";
import { toolwireBin } from "../helpers/toolwire-bin.js";

const root = join(import.meta.dirname, "../..");
const sha256 = (text: string) => createHash("sha256").update(Buffer.from(text, "utf8")).digest("hex");

/** Runs `toolwire hash-key` as a real process, feeding `input` on stdin. */
function hashKey(args: string[], input = ""): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [toolwireBin, "hash-key", ...args], { cwd: root, stdio: ["pipe", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    child.once("error", reject);
    child.once("close", (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(input);
  });
}

describe("toolwire hash-key", () => {
  it("prints the SHA-256 of a key read from stdin, dropping echo's newline", async () => {
    const { code, stdout } = await hashKey([], "tw_my-secret-key\n");
    expect(code).toBe(0);
    const hash = sha256("tw_my-secret-key");
    expect(stdout).toBe(`sha256: ${hash}\nconfig: {"id":"my-client","sha256":"${hash}","level":"authenticated"}\n`);
    expect(stdout).not.toContain("tw_my-secret-key");
  });

  it("hashes a key piped without a newline as it is", async () => {
    const { stdout } = await hashKey([], "tw_no-newline");
    expect(stdout).toContain(`sha256: ${sha256("tw_no-newline")}`);
  });

  it("prints JSON with a config entry the config schema accepts", async () => {
    const { code, stdout } = await hashKey(["--json", "--id", "ci-bot", "--level", "restricted"], "tw_ci\r\n");
    expect(code).toBe(0);
    const printed = JSON.parse(stdout) as { key?: string; sha256: string; entry: { id: string; sha256: string; level: string } };
    expect(printed).toEqual({ sha256: sha256("tw_ci"), entry: { id: "ci-bot", sha256: sha256("tw_ci"), level: "restricted" } });
    expect(() => validateConfig({ auth: { apiKeys: [printed.entry] } }, "printed entry")).not.toThrow();
  });

  it("generates a fresh key whose hash is the printed one", async () => {
    const first = await hashKey(["--generate", "--id", "deploy"]);
    expect(first.code).toBe(0);
    const match = /^key: +(tw_[A-Za-z0-9_-]{43})\nsha256: ([0-9a-f]{64})\nconfig: (\{.*\})\n$/.exec(first.stdout);
    expect(match, first.stdout).not.toBeNull();
    const [, key = "", hash = "", entry = ""] = match ?? [];
    expect(hash).toBe(sha256(key));
    expect(JSON.parse(entry)).toEqual({ id: "deploy", sha256: hash, level: "authenticated" });
    const second = await hashKey(["--generate"]);
    expect(second.stdout).not.toContain(key);
  });

  it("generates a key in JSON that a verifier built from the entry accepts", async () => {
    const { code, stdout } = await hashKey(["--generate", "--json", "--level", "admin"]);
    expect(code).toBe(0);
    const printed = JSON.parse(stdout) as { key: string; sha256: string; entry: { id: string; sha256: string; level: "admin" } };
    expect(printed.sha256).toBe(sha256(printed.key));
    expect(createApiKeyVerifier([printed.entry])(printed.key)).toMatchObject({ id: "my-client", level: "admin" });
  });

  it("refuses an empty stdin", async () => {
    const { code, stdout, stderr } = await hashKey([], "");
    expect(code).not.toBe(0);
    expect(stdout).toBe("");
    expect(stderr).toContain("no key on stdin");
  });

  it("refuses a caller id the config would refuse", async () => {
    const { code, stdout, stderr } = await hashKey(["--id", "ci bot"], "k");
    expect(code).not.toBe(0);
    expect(stdout).toBe("");
    expect(stderr).toContain("option '--id <id>' argument 'ci bot' is invalid");
  });

  it("refuses an unknown level", async () => {
    const { code, stderr } = await hashKey(["--level", "root"], "k");
    expect(code).not.toBe(0);
    expect(stderr).toContain("Allowed choices are public, authenticated, restricted, admin");
  });
});
