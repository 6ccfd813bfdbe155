/** A server under benchmark, running inside a server child process. */
export interface BenchServer {
  /** TCP port it listens on (127.0.0.1). */
  readonly port: number;
  /** Stops listening and closes every connection. */
  close(): Promise<void>;
}

/** The host every benchmarked server binds to. */
export const benchHost = "127.0.0.1";
