import { Agent as HttpAgent } from "node:http";
import { Agent as HttpsAgent } from "node:https";
import type { Interceptor, Transport } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport, createGrpcWebTransport, Http2SessionManager } from "@connectrpc/connect-node";

/** The wire protocol a client speaks: all three reach the same server port. */
export type TransportProtocol = "connect" | "grpc" | "grpc-web";

/** TLS settings for `https://` servers. */
export interface ClientTlsOptions {
  /** Certificate authorities to trust instead of the system's (PEM), e.g. a private CA. */
  readonly ca?: string | Buffer | readonly (string | Buffer)[];
  /** Client certificate (PEM), for servers that ask for one. */
  readonly cert?: string | Buffer;
  /** Private key of the client certificate (PEM). */
  readonly key?: string | Buffer;
  /** Server name to verify the certificate against, when it differs from the URL's host. */
  readonly servername?: string;
  /** Set to false only for local testing: accepts any certificate. Default true. */
  readonly rejectUnauthorized?: boolean;
}

/** What {@link createClientTransport} needs. */
export interface ClientTransportOptions {
  /** Server base URL, e.g. http://127.0.0.1:8081. */
  readonly baseUrl: string;
  /** Wire protocol (default "connect"). */
  readonly protocol?: TransportProtocol;
  /** HTTP version (default "2"; gRPC needs "2"). */
  readonly httpVersion?: "1.1" | "2";
  /** Send protobuf binary instead of JSON (Connect and gRPC-Web; gRPC is always binary). */
  readonly useBinaryFormat?: boolean;
  /** Interceptors, outermost first. */
  readonly interceptors?: readonly Interceptor[];
  /** TLS settings for https URLs. */
  readonly tls?: ClientTlsOptions;
  /** Send HTTP/2 PINGs this often to notice a dead connection (off by default). */
  readonly pingIntervalMs?: number;
}

/** A transport and the connections behind it. */
export interface ClientTransport {
  /** The connect-node transport. */
  readonly transport: Transport;
  /** Closes every connection the transport holds (open calls fail with canceled). */
  close(): void;
}

/**
 * Creates a connect-node transport whose connections the client owns: one HTTP/2 session manager
 * or one keep-alive HTTP/1.1 agent, closed by `close()` so that a disconnected client lets the
 * process exit.
 */
export function createClientTransport(options: ClientTransportOptions): ClientTransport {
  const protocol = options.protocol ?? "connect";
  const httpVersion = options.httpVersion ?? "2";
  if (protocol === "grpc" && httpVersion !== "2") {
    throw new Error('the gRPC protocol needs HTTP/2: use httpVersion "2", or protocol "grpc-web" over HTTP/1.1');
  }
  const baseUrl = options.baseUrl;
  let url: URL;
  try {
    url = new URL(baseUrl);
  } catch {
    throw new Error(`"${baseUrl}" is not a server URL; give one like http://127.0.0.1:8081`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new Error(`the server URL must start with http:// or https://, not ${url.protocol}//`);
  }
  const tls = options.tls === undefined ? {} : tlsNodeOptions(options.tls);
  const interceptors = [...(options.interceptors ?? [])];
  const common = { baseUrl, interceptors, useBinaryFormat: options.useBinaryFormat };

  if (httpVersion === "2") {
    const sessionManager = new Http2SessionManager(baseUrl, { pingIntervalMs: options.pingIntervalMs }, tls);
    const h2 = { ...common, httpVersion: "2" as const, sessionManager };
    const transport =
      protocol === "grpc"
        ? createGrpcTransport(h2)
        : protocol === "grpc-web"
          ? createGrpcWebTransport(h2)
          : createConnectTransport(h2);
    return { transport, close: () => sessionManager.abort() };
  }
  const agent = url.protocol === "https:" ? new HttpsAgent({ keepAlive: true, ...tls }) : new HttpAgent({ keepAlive: true });
  const h1 = { ...common, httpVersion: "1.1" as const, nodeOptions: { agent } };
  const transport = protocol === "grpc-web" ? createGrpcWebTransport(h1) : createConnectTransport(h1);
  return { transport, close: () => agent.destroy() };
}

function tlsNodeOptions(tls: ClientTlsOptions): { ca?: (string | Buffer)[]; cert?: string | Buffer; key?: string | Buffer; servername?: string; rejectUnauthorized?: boolean } {
  return {
    ...(tls.ca === undefined ? {} : { ca: Array.isArray(tls.ca) ? [...(tls.ca as (string | Buffer)[])] : [tls.ca as string | Buffer] }),
    ...(tls.cert === undefined ? {} : { cert: tls.cert }),
    ...(tls.key === undefined ? {} : { key: tls.key }),
    ...(tls.servername === undefined ? {} : { servername: tls.servername }),
    ...(tls.rejectUnauthorized === undefined ? {} : { rejectUnauthorized: tls.rejectUnauthorized }),
  };
}
