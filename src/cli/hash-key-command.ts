import { randomBytes } from "node:crypto";
import { InvalidArgumentError, Option, type Command } from "commander";
import { hashApiKey } from "../security/api-keys.js";

/** Options of `toolwire hash-key`. */
interface HashKeyOptions {
  generate?: boolean;
  id?: string;
  level?: string;
  json?: boolean;
}

/** Checks --id as the config schema does, so the printed entry is one the config accepts. */
function callerId(value: string): string {
  if (!/^[A-Za-z0-9._:@-]{1,128}$/.test(value)) {
    throw new InvalidArgumentError("use 1 to 128 of the characters A-Z a-z 0-9 . _ : @ -");
  }
  return value;
}

/** Reads all of standard input. */
async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

/**
 * Adds `toolwire hash-key`: prints the SHA-256 the config stores for an API key. The key comes
 * from standard input (never an argument, which would land in shell history) or is generated.
 */
export function registerHashKeyCommand(program: Command): void {
  program
    .command("hash-key")
    .description("print the SHA-256 hash of an API key read from stdin, for auth.apiKeys in the config")
    .option("--generate", "generate a new random key, print it once, and its hash")
    .option("--id <id>", "caller id for the printed config entry", callerId, "my-client")
    .addOption(new Option("--level <level>", "level for the printed config entry").choices(["public", "authenticated", "restricted", "admin"]).default("authenticated"))
    .option("--json", "print a JSON object (key when generated, sha256, config entry)")
    .addHelpText("after", "\nExamples:\n  toolwire hash-key --generate --id ci-bot\n  printf %s \"$KEY\" | toolwire hash-key")
    .action(async (opts: HashKeyOptions) => {
      let key: string;
      if (opts.generate === true) {
        key = `tw_${randomBytes(32).toString("base64url")}`;
      } else {
        if (process.stdin.isTTY) {
          program.error("toolwire hash-key: pipe the key on stdin (printf %s \"$KEY\" | toolwire hash-key) or use --generate");
        }
        // A trailing newline from echo is not part of the key.
        key = (await readStdin()).replace(/\r?\n$/, "");
        if (key.length === 0) program.error("toolwire hash-key: no key on stdin");
      }
      const sha256 = hashApiKey(key);
      const entry = { id: opts.id, sha256, level: opts.level };
      if (opts.json === true) {
        process.stdout.write(`${JSON.stringify({ ...(opts.generate === true ? { key } : {}), sha256, entry })}\n`);
        return;
      }
      if (opts.generate === true) process.stdout.write(`key:    ${key}\n`);
      process.stdout.write(`sha256: ${sha256}\nconfig: ${JSON.stringify(entry)}\n`);
    });
}
