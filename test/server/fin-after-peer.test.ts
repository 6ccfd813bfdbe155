import { once } from "node:events";
import { createServer, connect, type Socket } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { finAfterPeer } from "../../src/server/fin-after-peer.js";

/** A connected pair of loopback sockets: the server's side and the peer's. */
async function socketPair(options: { allowHalfOpen?: boolean } = {}): Promise<{ server: Socket; peer: Socket; close(): void }> {
  const listener = createServer(options);
  listener.listen(0, "127.0.0.1");
  await once(listener, "listening");
  const accepted = once(listener, "connection") as Promise<[Socket]>;
  const peer = connect((listener.address() as { port: number }).port, "127.0.0.1");
  const [server] = await accepted;
  return {
    server,
    peer,
    close() {
      server.destroy();
      peer.destroy();
      listener.close();
    },
  };
}

describe("finAfterPeer", () => {
  let cleanup: (() => void) | undefined;
  afterEach(() => cleanup?.());

  it("holds the server's FIN until the peer has sent its own", async () => {
    const { server, peer, close } = await socketPair();
    cleanup = close;
    finAfterPeer(server, 60_000);
    server.resume();
    let peerSawEnd = false;
    let received = "";
    peer.on("end", () => (peerSawEnd = true));
    peer.on("data", (chunk: Buffer) => (received += chunk.toString()));
    const ended = new Promise<void>((resolve) => server.end("last words", () => resolve()));
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(peerSawEnd).toBe(false);
    peer.end();
    await ended;
    await expect.poll(() => peerSawEnd).toBe(true);
    expect(received).toBe("last words");
  });

  it("sends the FIN after the wait when the peer stays silent", async () => {
    const { server, peer, close } = await socketPair();
    cleanup = close;
    finAfterPeer(server, 300);
    let peerSawEnd = false;
    peer.on("end", () => (peerSawEnd = true));
    peer.resume();
    server.end();
    // Checked by a timer due before the wait's, in this same process: no load can swap them.
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(peerSawEnd).toBe(false);
    await expect.poll(() => peerSawEnd, { timeout: 5_000 }).toBe(true);
  });

  it("ends at once when the peer has already closed its side", async () => {
    // Half-open allowed, so the server's side stays open after the peer's FIN until it ends it.
    const { server, peer, close } = await socketPair({ allowHalfOpen: true });
    cleanup = close;
    finAfterPeer(server, 60_000);
    server.resume();
    peer.end();
    await once(server, "end");
    const peerEnded = once(peer, "end");
    peer.resume();
    server.end();
    await peerEnded;
    expect(peer.readableEnded).toBe(true);
  });
});
