import type { Server } from "node:http";
import type { AddressInfo } from "node:net";

/** A server under benchmark, running inside a server child process. */
export interface BenchServer {
  /** TCP port it listens on (127.0.0.1). */
  readonly port: number;
  /** Stops listening and closes every connection. */
  close(): Promise<void>;
}

/** The host every benchmarked server binds to. */
export const benchHost = "127.0.0.1";

/** Listens with a node:http server on a free port of {@link benchHost} and wraps it as a BenchServer. */
export async function listenBench(server: Server): Promise<BenchServer> {
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, benchHost, () => resolve());
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
