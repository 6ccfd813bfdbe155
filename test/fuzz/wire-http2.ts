import { connect, constants, type ClientHttp2Session, type IncomingHttpHeaders, type OutgoingHttpHeaders } from "node:http2";
import { connect as connectTcp } from "node:net";
import type { FuzzCase, FrameFault } from "./arbitraries.js";
import { answerTimeoutMs, emptyAnswer, incompleteWaitMs, isStreamingResponse, streamReadMs, type Answer, type Fields } from "./answer.js";

/** The HTTP/2 request headers of a case (pseudo-headers first), as node:http2 is asked to send them. */
export function http2Headers(c: FuzzCase, port: number): OutgoingHttpHeaders {
  const headers: OutgoingHttpHeaders = { ":method": c.method, ":path": c.target, ":scheme": "http" };
  const authority = { good: `127.0.0.1:${port}`, missing: undefined, duplicate: `127.0.0.1:${port}`, empty: "", foreign: "evil.example", garbage: "a b" }[c.host];
  if (authority !== undefined) headers[":authority"] = authority;
  if (c.host === "duplicate") headers.host = "localhost";
  for (const [name, value] of c.headers) {
    const key = name.toLowerCase();
    const previous = headers[key];
    headers[key] = previous === undefined ? value : [...(Array.isArray(previous) ? previous : [String(previous)]), value];
  }
  if (c.framing === "short") headers["content-length"] = String(c.body.length + 10);
  return headers;
}

/** Sends a case with a node:http2 client session of its own and reads the answer. */
export function sendHttp2(c: FuzzCase, port: number): Promise<Answer> {
  return new Promise<Answer>((resolve) => {
    let session: ClientHttp2Session;
    let settled = false;
    let status: number | undefined;
    let headers: Fields = {};
    const trailers: Fields = {};
    const chunks: Buffer[] = [];
    const finish = (answer: Answer) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      session.destroy();
      resolve(answer);
    };
    const current = (streaming: boolean): Answer =>
      status === undefined
        ? emptyAnswer("no-answer", "no response headers")
        : { kind: "answered", status, headers, trailers, body: Buffer.concat(chunks), streaming };
    const incomplete = c.framing === "short" || c.cut !== "none";
    let timer = setTimeout(() => finish(current(false).kind === "answered" ? current(true) : emptyAnswer("no-answer", "no answer in time")), incomplete ? incompleteWaitMs : answerTimeoutMs);
    try {
      session = connect(`http://127.0.0.1:${port}`);
      session.on("error", (err: NodeJS.ErrnoException) => finish(err.code === "ECONNREFUSED" ? emptyAnswer("refused", err.message) : current(false).kind === "answered" ? current(false) : emptyAnswer("no-answer", `session error: ${err.message}`)));
      session.on("goaway", (code) => {
        if (code !== constants.NGHTTP2_NO_ERROR && status === undefined) finish(emptyAnswer("no-answer", `GOAWAY ${code}`));
      });
      const stream = session.request(http2Headers(c, port), { endStream: false });
      stream.on("response", (h: IncomingHttpHeaders) => {
        status = Number(h[":status"]);
        headers = fieldsOf(h);
        if (isStreamingResponse(headers)) {
          clearTimeout(timer);
          timer = setTimeout(() => finish(current(true)), streamReadMs);
        }
      });
      stream.on("trailers", (h: IncomingHttpHeaders) => Object.assign(trailers, fieldsOf(h)));
      stream.on("data", (d: Buffer) => chunks.push(d));
      stream.on("end", () => finish(current(false)));
      stream.on("close", () => finish(current(false).kind === "answered" ? current(false) : emptyAnswer("no-answer", `stream closed, code ${stream.rstCode}`)));
      stream.on("error", () => undefined);
      const body = Buffer.from(c.body);
      if (c.cut === "mid-body") stream.write(body.subarray(0, body.length >> 1), () => finish(emptyAnswer("cut")));
      else if (c.cut === "early") stream.end(body, () => finish(emptyAnswer("cut")));
      else if (c.framing === "short") stream.write(body);
      else stream.end(body);
    } catch (err) {
      // node:http2 refused to send it (an invalid header name or value): nothing reached the server.
      clearTimeout(timer);
      settled = true;
      session!?.destroy();
      resolve(emptyAnswer("unsendable", (err as Error).message));
    }
  });
}

function fieldsOf(h: IncomingHttpHeaders): Fields {
  const fields: Fields = {};
  for (const [name, value] of Object.entries(h)) {
    if (value === undefined) continue;
    fields[name] = Array.isArray(value) ? value : [String(value)];
  }
  return fields;
}

const preface = Buffer.from("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n");
const frameType = { data: 0, headers: 1, rst: 3, settings: 4, goaway: 7, window: 8, continuation: 9 } as const;

function frame(type: number, flags: number, stream: number, payload: Buffer, declaredLength = payload.length): Buffer {
  const head = Buffer.alloc(9);
  head.writeUIntBE(declaredLength, 0, 3);
  head[3] = type;
  head[4] = flags;
  head.writeUInt32BE(stream & 0x7fffffff, 5);
  return Buffer.concat([head, payload]);
}

function hpackInt(n: number): Buffer {
  if (n < 127) return Buffer.from([n]);
  const out = [127];
  let rest = n - 127;
  while (rest >= 128) {
    out.push((rest & 0x7f) | 0x80);
    rest >>= 7;
  }
  out.push(rest);
  return Buffer.from(out);
}

/** A header block of literal fields without indexing and without Huffman coding. */
function hpack(fields: readonly (readonly [string, string])[]): Buffer {
  return Buffer.concat(
    fields.flatMap(([name, value]) => {
      const n = Buffer.from(name, "latin1");
      const v = Buffer.from(value, "latin1");
      return [Buffer.from([0]), hpackInt(n.length), n, hpackInt(v.length), v];
    }),
  );
}

/** The bytes of an h2-frames case: preface, SETTINGS, the request's frames with its fault. */
export function http2Frames(c: FuzzCase, port: number): Buffer {
  const fault: FrameFault = c.frameFault;
  const authority = { good: `127.0.0.1:${port}`, missing: undefined, duplicate: `127.0.0.1:${port}`, empty: "", foreign: "evil.example", garbage: "a b" }[c.host];
  const fields: [string, string][] = [];
  if (fault !== "no-method") fields.push([":method", c.method]);
  fields.push([":scheme", "http"]);
  if (fault !== "no-path") fields.push([":path", c.target]);
  if (authority !== undefined && fault !== "no-authority") fields.push([":authority", authority]);
  if (c.host === "duplicate") fields.push(["host", "localhost"]);
  for (const [name, value] of c.headers) fields.push([fault === "uppercase-name" ? name.toUpperCase() : name.toLowerCase(), value]);
  const body = Buffer.from(c.body);
  const stream = fault === "even-stream-id" ? 2 : 1;
  const block = hpack(fields);
  const out: Buffer[] = [preface, frame(frameType.settings, 0, 0, Buffer.alloc(0))];
  const endStream = body.length === 0 ? 0x1 : 0;
  if (fault === "stray-continuation") out.push(frame(frameType.continuation, 0x4, stream, block));
  else if (fault === "bad-padding") out.push(frame(frameType.headers, 0x4 | 0x8 | endStream, stream, Buffer.concat([Buffer.from([250]), block])));
  else out.push(frame(frameType.headers, 0x4 | endStream, stream, block));
  if (fault === "rst-then-data") out.push(frame(frameType.rst, 0, stream, Buffer.from([0, 0, 0, 8])));
  if (fault === "window-update-0") out.push(frame(frameType.window, 0, stream, Buffer.alloc(4)));
  if (body.length > 0) {
    const target = fault === "data-on-stream-0" ? 0 : stream;
    if (fault === "oversized-frame") out.push(frame(frameType.data, 0x1, target, body, 0xffffff));
    else if (fault === "truncated-frame") out.push(frame(frameType.data, 0x1, target, body, body.length + 50));
    else out.push(frame(frameType.data, 0x1, target, body));
  }
  return Buffer.concat(out);
}

/** Sends an h2-frames case over a raw socket and notes what frames came back for the stream. */
export function sendHttp2Frames(c: FuzzCase, port: number): Promise<Answer> {
  const bytes = http2Frames(c, port);
  return new Promise<Answer>((resolve) => {
    const socket = connectTcp(port, "127.0.0.1");
    let received = Buffer.alloc(0);
    let settled = false;
    const facts: { goaway?: number; rst?: number; status500: boolean; headers: boolean } = { status500: false, headers: false };
    const body: Buffer[] = [];
    const done = (kind: Answer["kind"], detail?: string) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      const answered = facts.headers || facts.rst !== undefined || facts.goaway !== undefined;
      resolve({ ...emptyAnswer(kind === "no-answer" && answered ? "answered" : kind, detail), body: Buffer.concat(body), frames: { ...facts } });
    };
    const wait = c.frameFault === "truncated-frame" || c.frameFault === "rst-then-data" || c.cut !== "none" ? incompleteWaitMs : answerTimeoutMs;
    let timer = setTimeout(() => done("no-answer", `no frames within ${wait} ms`), wait);
    socket.on("connect", () => {
      if (c.cut === "mid-body") socket.write(bytes.subarray(0, bytes.length >> 1), () => done("cut"));
      else if (c.cut === "early") socket.write(bytes, () => done("cut"));
      else socket.write(bytes);
    });
    socket.on("data", (d: Buffer) => {
      received = Buffer.concat([received, d]);
      while (received.length >= 9) {
        const length = received.readUIntBE(0, 3);
        if (received.length < 9 + length) break;
        const type = received[3];
        const flags = received[4] ?? 0;
        const id = received.readUInt32BE(5) & 0x7fffffff;
        const payload = received.subarray(9, 9 + length);
        received = received.subarray(9 + length);
        if (type === frameType.settings && (flags & 0x1) === 0) socket.write(frame(frameType.settings, 0x1, 0, Buffer.alloc(0)));
        if (type === frameType.goaway && payload.length >= 8) {
          facts.goaway = payload.readUInt32BE(4);
          done("answered");
        }
        if (id === 0) continue;
        if (type === frameType.rst && payload.length >= 4) {
          facts.rst = payload.readUInt32BE(0);
          done("answered");
        }
        if (type === frameType.headers) {
          // The static table's index 14 is ":status: 500"; indexed fields start with bit 0x80.
          if (!facts.headers && payload[0] === 0x8e) facts.status500 = true;
          if (!facts.headers) {
            clearTimeout(timer);
            timer = setTimeout(() => done("answered"), streamReadMs);
          }
          facts.headers = true;
        }
        if (type === frameType.data) body.push(Buffer.from(payload));
        if ((type === frameType.data || type === frameType.headers) && (flags & 0x1) !== 0) done("answered");
      }
    });
    socket.on("error", (err: NodeJS.ErrnoException) => {
      if (err.code === "ECONNREFUSED") done("refused", err.message);
    });
    socket.on("close", () => done("no-answer", "connection closed"));
  });
}
