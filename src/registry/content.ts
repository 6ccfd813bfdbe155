/**
 * Content blocks a tool returns, shaped exactly like MCP's so handlers need not care which
 * transport carries them. Binary data is base64, as in MCP.
 */
export type Content = TextContent | ImageContent | AudioContent | ResourceContent;

/** Plain or formatted text. */
export interface TextContent {
  readonly type: "text";
  /** The text. */
  readonly text: string;
}

/** An image, base64-encoded. */
export interface ImageContent {
  readonly type: "image";
  /** Base64 image bytes. */
  readonly data: string;
  /** MIME type, e.g. image/png. */
  readonly mimeType: string;
}

/** An audio clip, base64-encoded. */
export interface AudioContent {
  readonly type: "audio";
  /** Base64 audio bytes. */
  readonly data: string;
  /** MIME type, e.g. audio/wav. */
  readonly mimeType: string;
}

/** A resource embedded in the result: text or base64 blob contents under a URI. */
export interface ResourceContent {
  readonly type: "resource";
  readonly resource: {
    /** Resource URI. */
    readonly uri: string;
    /** MIME type of the contents. */
    readonly mimeType?: string;
    /** Text contents. */
    readonly text?: string;
    /** Base64 binary contents. */
    readonly blob?: string;
  };
}

/** A text content block. */
export function textContent(text: string): TextContent {
  return { type: "text", text };
}
