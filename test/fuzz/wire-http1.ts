import { connect } from "node:net";
import type { FuzzCase } from "./arbitraries.js";
import { answerTimeoutMs, emptyAnswer, incompleteWaitMs, isStreamingResponse, streamReadMs, type Answer, type Fields } from "./answer.js";

/** The bytes of an HTTP/1.x case, exactly as written to the socket. */
export function http1Bytes(c: FuzzCase, port: number): Buffer {
  const version = c.wire === "http/1.0" ? "HTTP/1.0" : "HTTP/1.1";
  const lines = [`${c.method} ${c.target} ${version}`];
  const good = `127.0.0.1:${port}`;
  const host = { good: [good], missing: [], duplicate: [good, "localhost"], empty: [""], foreign: ["evil.example"], garbage: ["a b\x01"] }[c.host];
  for (const value of host) lines.push(`Host: ${value}`);
  for (const [name, value] of c.headers) lines.push(`${name}: ${value}`);
  const body = Buffer.from(c.body);
  let payload: Buffer = body;
  switch (c.framing) {
    case "length":
      if (body.length > 0 || c.method === "POST") lines.push(`Content-Length: ${body.length}`);
      break;
    case "short":
      lines.push(`Content-Length: ${body.length + 10}`);
      break;
    case "chunked":
      lines.push("Transfer-Encoding: chunked");
      payload = Buffer.concat([...chunks(body), Buffer.from("0\r\n\r\n")]);
      break;
    case "bad-chunked":
      lines.push("Transfer-Encoding: chunked");
      payload = Buffer.concat([Buffer.from(`${(body.length + 5).toString(16)}\r\n`), body, Buffer.from("zz\r\nnot a chunk\r\n")]);
      break;
    case "none":
      break;
  }
  return Buffer.concat([Buffer.from(`${lines.join("\r\n")}\r\n\r\n`, "latin1"), payload]);
}

function* chunks(body: Buffer): Generator<Buffer> {
  for (let i = 0; i < body.length; i += 17) {
    const part = body.subarray(i, i + 17);
    yield Buffer.concat([Buffer.from(`${part.length.toString(16)}\r\n`), part, Buffer.from("\r\n")]);
  }
}

/** Whether the server cannot see a whole request in these bytes, so an answer need not come. */
export function http1Incomplete(c: FuzzCase): boolean {
  return c.framing === "short" || c.cut !== "none";
}

/** Sends an HTTP/1.x case over a raw socket and reads the first response. */
export function sendHttp1(c: FuzzCase, port: number): Promise<Answer> {
  const bytes = http1Bytes(c, port);
  return new Promise<Answer>((resolve) => {
    const socket = connect(port, "127.0.0.1");
    let received = Buffer.alloc(0);
    let settled = false;
    const finish = (answer: Answer) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      resolve(answer);
    };
    const waitMs = http1Incomplete(c) ? incompleteWaitMs : answerTimeoutMs;
    // An answer still open when the wait runs out is a stream the client cut.
    const cutShort = () => {
      const answer = parsed(received, c, true);
      return answer === undefined ? undefined : { ...answer, streaming: true };
    };
    let timer = setTimeout(() => finish(cutShort() ?? emptyAnswer("no-answer", `no answer within ${waitMs} ms`)), waitMs);
    socket.on("connect", () => {
      if (c.cut === "mid-body") {
        socket.write(bytes.subarray(0, Math.max(1, bytes.length >> 1)), () => finish(emptyAnswer("cut")));
      } else if (c.cut === "early") {
        socket.write(bytes, () => finish(emptyAnswer("cut")));
      } else {
        socket.write(bytes);
      }
    });
    socket.on("data", (data: Buffer) => {
      received = Buffer.concat([received, data]);
      const answer = parsed(received, c, false);
      if (answer === undefined) return;
      if (!answer.streaming) finish(answer);
      else {
        // A stream: read a little of it, then cut.
        clearTimeout(timer);
        timer = setTimeout(() => finish(cutShort() ?? answer), streamReadMs);
      }
    });
    socket.on("error", (err: NodeJS.ErrnoException) => {
      if (err.code === "ECONNREFUSED") finish(emptyAnswer("refused", err.message));
    });
    socket.on("close", () => finish(parsed(received, c, true) ?? emptyAnswer("no-answer", received.length === 0 ? "connection closed with no answer" : `connection closed mid-answer: ${received.toString("latin1").slice(0, 200)}`)));
  });
}

/**
 * The first response in `data`: undefined while its head is incomplete; complete when its body is
 * all there; a streaming answer (streaming: true) when the head says it streams and the body is not
 * complete yet; at `end`, whatever arrived.
 */
function parsed(data: Buffer, c: FuzzCase, end: boolean): Answer | undefined {
  let offset = 0;
  for (;;) {
    const headEnd = data.indexOf("\r\n\r\n", offset);
    if (headEnd === -1) return undefined;
    const [statusLine = "", ...fieldLines] = data.subarray(offset, headEnd).toString("latin1").split("\r\n");
    const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(statusLine)?.[1] ?? "0");
    const headers = fieldsOf(fieldLines);
    offset = headEnd + 4;
    if (status >= 100 && status < 200) continue;
    const bodyStart = offset;
    const noBody = c.method === "HEAD" || status === 204 || status === 304;
    const te = headers["transfer-encoding"]?.join(",") ?? "";
    if (noBody) return answer(status, headers, {}, Buffer.alloc(0), false);
    if (/chunked/i.test(te)) {
      const decoded = dechunk(data.subarray(bodyStart));
      if (decoded.complete) return answer(status, headers, decoded.trailers, decoded.body, false);
      if (end || isStreamingResponse(headers)) return answer(status, headers, {}, decoded.body, !end || isStreamingResponse(headers));
      return undefined;
    }
    const length = headers["content-length"]?.[0];
    if (length !== undefined) {
      const n = Number(length);
      if (data.length - bodyStart >= n) return answer(status, headers, {}, data.subarray(bodyStart, bodyStart + n), false);
      return end ? answer(status, headers, {}, data.subarray(bodyStart), false) : undefined;
    }
    // No length: the body runs to the end of the connection.
    if (end) return answer(status, headers, {}, data.subarray(bodyStart), false);
    return isStreamingResponse(headers) ? answer(status, headers, {}, data.subarray(bodyStart), true) : undefined;
  }
}

function answer(status: number, headers: Fields, trailers: Fields, body: Buffer, streaming: boolean): Answer {
  return { kind: "answered", status, headers, trailers, body: Buffer.from(body), streaming };
}

function fieldsOf(lines: readonly string[]): Fields {
  const fields: Fields = {};
  for (const line of lines) {
    const colon = line.indexOf(":");
    if (colon <= 0) continue;
    const name = line.slice(0, colon).trim().toLowerCase();
    (fields[name] ??= []).push(line.slice(colon + 1).trim());
  }
  return fields;
}

function dechunk(data: Buffer): { complete: boolean; body: Buffer; trailers: Fields } {
  const parts: Buffer[] = [];
  let offset = 0;
  for (;;) {
    const lineEnd = data.indexOf("\r\n", offset);
    if (lineEnd === -1) return { complete: false, body: Buffer.concat(parts), trailers: {} };
    const size = parseInt(data.subarray(offset, lineEnd).toString("latin1"), 16);
    if (Number.isNaN(size)) return { complete: false, body: Buffer.concat(parts), trailers: {} };
    if (size === 0) {
      const end = data.indexOf("\r\n\r\n", lineEnd);
      // Trailers may still be arriving.
      if (end === -1) return { complete: false, body: Buffer.concat(parts), trailers: {} };
      const trailerText = data.subarray(lineEnd + 2, end).toString("latin1");
      return { complete: true, body: Buffer.concat(parts), trailers: fieldsOf(trailerText.split("\r\n")) };
    }
    if (data.length < lineEnd + 2 + size + 2) return { complete: false, body: Buffer.concat([...parts, data.subarray(lineEnd + 2)]), trailers: {} };
    parts.push(data.subarray(lineEnd + 2, lineEnd + 2 + size));
    offset = lineEnd + 2 + size + 2;
  }
}
