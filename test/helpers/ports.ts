import { createServer } from "node:net";

/**
 * A loopback port nothing listens on right now: bound to port 0, then released. Racy by nature:
 * whoever listens on it next retries when another process took it meanwhile.
 */
export async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve, reject) => {
    probe.once("error", reject);
    probe.listen(0, "127.0.0.1", resolve);
  });
  const address = probe.address();
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  if (address === null || typeof address === "string") throw new Error("no port");
  return address.port;
}

/** A loopback port that refuses connections: nothing listens on it (it was free a moment ago). */
export const closedPort: () => Promise<number> = freePort;
