/** Header or trailer fields of an answer, names in lower case. */
export type Fields = Record<string, string[]>;

/** What the server did with one fuzz case. */
export interface Answer {
  /**
   * "answered": a response arrived (whole, or its head when it streams); "no-answer": the connection
   * ended or the wait ran out with no response; "cut": the client cut the connection itself and did
   * not wait; "unsendable": the client library refused to send the case; "refused": no connection.
   */
  readonly kind: "answered" | "no-answer" | "cut" | "unsendable" | "refused";
  /** HTTP status of an answer. */
  readonly status?: number;
  /** Response headers. */
  readonly headers: Fields;
  /** Trailers (HTTP/1.1 chunked trailers or HTTP/2 trailing HEADERS). */
  readonly trailers: Fields;
  /** The body received (the start of it when the answer streams). */
  readonly body: Buffer;
  /** Whether the client stopped reading a stream that was still open. */
  readonly streaming: boolean;
  /** For h2-frames: frame-level facts (GOAWAY or RST_STREAM codes, a 500 status seen). */
  readonly frames?: { readonly goaway?: number; readonly rst?: number; readonly status500: boolean; readonly headers: boolean };
  /** Why there was no answer, for reports. */
  readonly detail?: string;
}

/** An answer with nothing in it. */
export function emptyAnswer(kind: Answer["kind"], detail?: string): Answer {
  return { kind, headers: {}, trailers: {}, body: Buffer.alloc(0), streaming: false, ...(detail === undefined ? {} : { detail }) };
}

/** How long a case waits for an answer before it counts as unanswered, in ms. */
export const answerTimeoutMs = 5_000;
/** How long a case that cannot be complete (truncated body) waits before giving up, in ms. */
export const incompleteWaitMs = 300;
/** How long a streaming answer is read after its head before the client cuts it, in ms. */
export const streamReadMs = 150;

/** Whether a response with these headers is a stream the client should not wait to end. */
export function isStreamingResponse(headers: Fields): boolean {
  const type = headers["content-type"]?.[0] ?? "";
  return /^(text\/event-stream|application\/(connect\+|grpc))/i.test(type);
}
