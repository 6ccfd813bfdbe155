import { readFile } from "node:fs/promises";

/**
 * Established TCP connections whose local port is `port`, from /proc/net/tcp{,6}: for a server
 * port, the connections the server holds open, whichever process made them.
 */
export async function establishedConnections(port: number): Promise<number> {
  let count = 0;
  for (const file of ["/proc/net/tcp", "/proc/net/tcp6"]) {
    const text = await readFile(file, "utf8").catch(() => "");
    for (const line of text.split("\n").slice(1)) {
      const [, local, , state] = line.trim().split(/\s+/);
      if (local === undefined || state !== "01") continue;
      if (Number.parseInt(local.split(":").pop() ?? "", 16) === port) count++;
    }
  }
  return count;
}
