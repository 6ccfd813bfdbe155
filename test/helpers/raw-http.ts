import { connect, type Socket } from "node:net";

/** What came back on a raw HTTP/1.x connection. */
export interface RawReply {
  /** Status code of the first response, 0 when none arrived. */
  readonly status: number;
  /** Header block of the first response, names lower-cased. */
  readonly headers: Record<string, string>;
  /** Everything after the first header block. */
  readonly body: string;
  /** Whether the server closed the connection. */
  readonly closed: boolean;
}

/** Opens a TCP connection to 127.0.0.1:port. */
export function openSocket(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, "127.0.0.1", () => resolve(socket));
    socket.once("error", reject);
  });
}

/**
 * Sends `request` as written (any HTTP version, any headers, or none) and reads until the server
 * closes the connection or `quietMs` pass without more bytes after a response has begun.
 */
export async function rawRequest(port: number, request: string | Buffer, quietMs = 300): Promise<RawReply> {
  const socket = await openSocket(port);
  return readReply(socket, request, quietMs);
}

/** Writes `request` on an open socket and reads its reply (see {@link rawRequest}). */
export function readReply(socket: Socket, request: string | Buffer, quietMs = 300): Promise<RawReply> {
  return new Promise((resolve) => {
    let data = "";
    let timer: NodeJS.Timeout | undefined;
    const finish = (closed: boolean) => {
      clearTimeout(timer);
      socket.off("data", onData);
      socket.off("close", onClose);
      resolve(parseReply(data, closed));
    };
    const onData = (chunk: Buffer) => {
      data += chunk.toString("latin1");
      clearTimeout(timer);
      timer = setTimeout(() => finish(false), quietMs);
    };
    const onClose = () => finish(true);
    socket.on("data", onData);
    socket.once("close", onClose);
    socket.on("error", () => undefined);
    socket.write(request);
  });
}

function parseReply(data: string, closed: boolean): RawReply {
  const end = data.indexOf("\r\n\r\n");
  const head = end === -1 ? data : data.slice(0, end);
  const [statusLine = "", ...lines] = head.split("\r\n");
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const colon = line.indexOf(":");
    if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  return { status: Number(/^HTTP\/1\.[01] (\d{3})/.exec(statusLine)?.[1] ?? 0), headers, body: end === -1 ? "" : data.slice(end + 4), closed };
}
