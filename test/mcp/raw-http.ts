import { request } from "node:http";
import { connect } from "node:http2";

/** A raw HTTP answer. */
export interface RawResponse {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly text: string;
}

/** Headers a Streamable HTTP client sends with a JSON-RPC POST. */
export const mcpPostHeaders = {
  "content-type": "application/json",
  accept: "application/json, text/event-stream",
} as const;

/** Sends one HTTP/1.1 request with exactly the given headers (Host included) and reads the whole answer. */
export function http1(
  url: string,
  init: { method?: string; headers?: Record<string, string>; body?: string | Buffer; chunked?: boolean } = {},
): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: init.method ?? "POST", headers: init.headers ?? {}, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text: Buffer.concat(chunks).toString("utf8") }));
      res.on("error", reject);
    });
    req.on("error", reject);
    if (init.body !== undefined && init.chunked === true) {
      // Written in pieces with no Content-Length, so the server only learns the size by reading.
      const body = Buffer.from(init.body);
      for (let i = 0; i < body.length; i += 1024) req.write(body.subarray(i, i + 1024));
      req.end();
    } else {
      req.end(init.body);
    }
  });
}

/** Sends one HTTP/2 (cleartext, prior knowledge) request and reads the whole answer. */
export function http2(url: string, init: { method?: string; headers?: Record<string, string>; body?: string } = {}): Promise<RawResponse> {
  const { origin, pathname } = new URL(url);
  const session = connect(origin);
  return new Promise<RawResponse>((resolve, reject) => {
    session.on("error", reject);
    const stream = session.request({ ":method": init.method ?? "POST", ":path": pathname, ...init.headers });
    const chunks: Buffer[] = [];
    let status = 0;
    let headers: Record<string, string | string[] | undefined> = {};
    stream.on("response", (h) => {
      status = Number(h[":status"]);
      headers = h as Record<string, string | string[] | undefined>;
    });
    stream.on("data", (c: Buffer) => chunks.push(c));
    stream.on("end", () => resolve({ status, headers, text: Buffer.concat(chunks).toString("utf8") }));
    stream.on("error", reject);
    stream.end(init.body);
  }).finally(() => session.close());
}

/** The JSON-RPC messages of an answer, whether it came as JSON or as an event stream. */
export function messagesOf(response: RawResponse): unknown[] {
  const type = String(response.headers["content-type"] ?? "");
  if (type.startsWith("text/event-stream")) {
    return response.text
      .split("\n")
      .filter((line) => line.startsWith("data: ") && line.length > "data: ".length)
      .map((line) => JSON.parse(line.slice("data: ".length)) as unknown);
  }
  return [JSON.parse(response.text) as unknown];
}
