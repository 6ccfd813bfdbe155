import { createServer, connect, type AddressInfo, type Socket } from "node:net";

/** A TCP proxy in front of a server, whose connections a test can cut. */
export interface TcpProxy {
  /** The proxy's base URL (http://127.0.0.1:<port>). */
  readonly url: string;
  /** Connections open through the proxy now. */
  readonly open: number;
  /** Cuts every open connection and refuses new ones (they are reset at once) until `restore()`. */
  cut(): void;
  /** Lets connections through again. */
  restore(): void;
  /** Connections accepted from now on forward nothing, either way, for `ms` (a slow network path). */
  holdNew(ms: number): void;
  /** Cuts everything and stops listening. */
  close(): Promise<void>;
}

/** Starts a proxy on a random loopback port forwarding to `targetPort`. */
export async function startTcpProxy(targetPort: number): Promise<TcpProxy> {
  const sockets = new Set<Socket>();
  let refusing = false;
  let holdMs = 0;
  const track = (socket: Socket) => {
    sockets.add(socket);
    socket.once("close", () => sockets.delete(socket));
    socket.on("error", () => socket.destroy());
  };
  const server = createServer((client) => {
    track(client);
    if (refusing) {
      client.resetAndDestroy();
      return;
    }
    const upstream = connect(targetPort, "127.0.0.1");
    track(upstream);
    client.once("close", () => upstream.destroy());
    upstream.once("close", () => client.destroy());
    const forward = () => {
      client.pipe(upstream);
      upstream.pipe(client);
    };
    if (holdMs > 0) {
      client.pause();
      upstream.pause();
      setTimeout(forward, holdMs);
    } else forward();
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  const cutAll = () => {
    for (const socket of sockets) socket.resetAndDestroy();
  };
  return {
    url: `http://127.0.0.1:${port}`,
    get open() {
      return sockets.size;
    },
    cut() {
      refusing = true;
      cutAll();
    },
    restore() {
      refusing = false;
    },
    holdNew(ms) {
      holdMs = ms;
    },
    close() {
      refusing = true;
      cutAll();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}
