import { create, toBinary } from "@bufbuild/protobuf";
import fc from "fast-check";
import { CallToolRequestSchema, GetToolRequestSchema, ListToolsRequestSchema } from "../../gen/proto/toolwire/v1/tool_service_pb.js";
import { fuzzKeys } from "./fuzz-server.js";

/** How a case travels: hand-written HTTP/1.x text, a node:http2 client, or hand-built HTTP/2 frames. */
export type Wire = "http/1.0" | "http/1.1" | "h2" | "h2-frames";

/** What the Host header (HTTP/1) or :authority (HTTP/2) of a case is. */
export type HostMode = "good" | "missing" | "duplicate" | "empty" | "foreign" | "garbage";

/** How an HTTP/1 body is framed; "short" declares more bytes than it sends, "bad-chunked" breaks the chunk syntax. */
export type Framing = "length" | "chunked" | "bad-chunked" | "short" | "none";

/** When the client cuts the connection: never, right after sending, or in the middle of the body. */
export type Cut = "none" | "early" | "mid-body";

/** The surface a case aims at, which decides the shape its answer must have. */
export type Surface = "connect" | "grpc" | "grpc-web" | "mcp" | "plain";

/** One fuzz request. */
export interface FuzzCase {
  /** How it is sent. */
  readonly wire: Wire;
  /** The surface it aims at (its content type and path may still say otherwise). */
  readonly surface: Surface;
  /** Request method (may be any token, or not one). */
  readonly method: string;
  /** Request target (HTTP/1) or :path (HTTP/2). */
  readonly target: string;
  /** Host header / :authority. */
  readonly host: HostMode;
  /** Other headers, in order, duplicates allowed. */
  readonly headers: readonly (readonly [string, string])[];
  /** The body. */
  readonly body: Uint8Array;
  /** HTTP/1 body framing. */
  readonly framing: Framing;
  /** Connection cut by the client. */
  readonly cut: Cut;
  /** For h2-frames: which frame-level mistake to make ("none" sends a well-formed request). */
  readonly frameFault: FrameFault;
}

/** Frame-level mistakes of the h2-frames wire. */
export type FrameFault =
  | "none"
  | "no-authority"
  | "no-path"
  | "no-method"
  | "uppercase-name"
  | "data-on-stream-0"
  | "oversized-frame"
  | "window-update-0"
  | "stray-continuation"
  | "truncated-frame"
  | "even-stream-id"
  | "bad-padding"
  | "rst-then-data";

const rpcPaths = [
  "/toolwire.v1.ToolService/ListTools",
  "/toolwire.v1.ToolService/GetTool",
  "/toolwire.v1.ToolService/CallTool",
  "/toolwire.v1.ToolService/CallToolStream",
  "/toolwire.v1.MonitorService/GetStats",
  "/toolwire.v1.MonitorService/GetServerInfo",
  "/toolwire.v1.MonitorService/WatchEvents",
  "/toolwire.v1.RegistryService/UnregisterTool",
  "/toolwire.v1.RegistryService/SetToolDeprecated",
  "/grpc.health.v1.Health/Check",
  "/grpc.health.v1.Health/Watch",
  "/grpc.reflection.v1.ServerReflection/ServerReflectionInfo",
  "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo",
  "/toolwire.v1.ToolService/NoSuchMethod",
  "/toolwire.v1.NoSuchService/CallTool",
];
const plainPaths = ["/health", "/metrics", "/events", "/mcp", "/", "/nope", "/console/", "/health/", "/mcp/x", "*", "//health", "/%", "/%zz", "/..%2f..%2fetc/passwd"];

/** Tools the fuzzer may call with valid arguments: cheap ones without side effects. */
const toolNames = ["echo", "calculator", "execute_command", "check_service_health", "list_processes", "nope", "", "echo@1", "ECHO"];

const token = fc.stringMatching(/^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,12}$/);
const headerValue = fc.oneof(
  fc.stringMatching(/^[\x20-\x7e]{0,60}$/),
  fc.constantFrom("", " ", "\t", "a\u00e9b", "x".repeat(3000)),
);
const text = fc.string({ maxLength: 40 });

const methodArb = fc.oneof(
  { weight: 8, arbitrary: fc.constant("POST") },
  { weight: 4, arbitrary: fc.constant("GET") },
  { weight: 3, arbitrary: fc.constantFrom("HEAD", "OPTIONS", "PUT", "DELETE", "PATCH", "TRACE", "CONNECT", "PRI") },
  { weight: 1, arbitrary: fc.oneof(token, fc.constantFrom("post", "G ET", "", "GET\u00ff")) },
);

const jsonValue = fc.jsonValue({ maxDepth: 3 }) as fc.Arbitrary<unknown>;
const toolArgs: fc.Arbitrary<unknown> = fc.oneof(
  fc.record({ message: text, uppercase: fc.option(fc.boolean(), { nil: undefined }) }, { requiredKeys: ["message"] }),
  fc.record({ operation: fc.constantFrom("add", "divide", "sqrt", "power", "modulo"), a: fc.double(), b: fc.option(fc.double(), { nil: undefined }) }, { requiredKeys: ["operation", "a"] }),
  fc.dictionary(fc.string({ maxLength: 8 }), jsonValue, { maxKeys: 4 }),
  jsonValue,
);
const callJson = fc.record(
  { name: fc.constantFrom(...toolNames), version: fc.constantFrom("", "1.0.0", "^1", ">=9", "garbage"), arguments: toolArgs },
  { requiredKeys: ["name"] },
);

/** A JSON request body for the Connect JSON codec: mostly plausible, sometimes not JSON at all. */
const connectJson: fc.Arbitrary<string> = fc.oneof(
  { weight: 5, arbitrary: callJson.map((v) => JSON.stringify(v) ?? "null") },
  { weight: 2, arbitrary: fc.constantFrom("{}", '{"pageSize":3}', '{"name":"echo"}', '{"unknownField":1}', '{"service":""}') },
  { weight: 2, arbitrary: jsonValue.map((v) => JSON.stringify(v) ?? "null") },
  { weight: 1, arbitrary: callJson.chain((v) => { const s = JSON.stringify(v); return fc.nat(s.length).map((n) => s.slice(0, n)); }) },
  { weight: 1, arbitrary: fc.string({ maxLength: 60 }) },
);

const bytes = fc.uint8Array({ maxLength: 80 });
/** A protobuf request message: a real one of the ToolService, or random bytes. */
const protoMessage: fc.Arbitrary<Uint8Array> = fc.oneof(
  callJson.map((v) =>
    toBinary(CallToolRequestSchema, create(CallToolRequestSchema, { name: v.name, version: v.version ?? "" })),
  ),
  fc.string({ maxLength: 20 }).map((name) => toBinary(GetToolRequestSchema, create(GetToolRequestSchema, { name }))),
  fc.nat(1000).map((pageSize) => toBinary(ListToolsRequestSchema, create(ListToolsRequestSchema, { pageSize }))),
  bytes,
);

/** A length-prefixed envelope (gRPC, gRPC-Web, Connect streaming) with a flag and a length that may lie. */
const envelope = (payload: fc.Arbitrary<Uint8Array>): fc.Arbitrary<Uint8Array> =>
  fc
    .record({
      payload,
      flags: fc.oneof({ weight: 6, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: fc.constantFrom(1, 2, 0x80, 0xff) }),
      length: fc.oneof(
        { weight: 6, arbitrary: fc.constant("right" as const) },
        { weight: 1, arbitrary: fc.constantFrom("short" as const, "long" as const, "huge" as const, "zero" as const) },
      ),
      extra: fc.oneof({ weight: 5, arbitrary: fc.constant(new Uint8Array()) }, { weight: 1, arbitrary: fc.uint8Array({ maxLength: 7 }) }),
    })
    .map(({ payload, flags, length, extra }) => {
      const declared = { right: payload.length, short: Math.max(0, payload.length - 3), long: payload.length + 9, huge: 0xfffffff0, zero: 0 }[length];
      const out = new Uint8Array(5 + payload.length + extra.length);
      out[0] = flags;
      new DataView(out.buffer).setUint32(1, declared >>> 0);
      out.set(payload, 5);
      out.set(extra, 5 + payload.length);
      return out;
    });

const utf8 = (s: string) => new TextEncoder().encode(s);

const rpcId = fc.oneof(fc.nat(1000), fc.string({ maxLength: 8 }), fc.constantFrom(null, 1.5, true, {}, []));
const mcpMessage: fc.Arbitrary<unknown> = fc.oneof(
  fc.record({
    jsonrpc: fc.constantFrom("2.0", "2.0", "1.0"),
    id: rpcId,
    method: fc.constantFrom("initialize", "tools/list", "tools/call", "ping", "resources/list", "prompts/get", "server/discover", "subscriptions/listen", "nope"),
    params: fc.oneof(
      fc.record({ name: fc.constantFrom(...toolNames), arguments: toolArgs }, { requiredKeys: [] }),
      fc.constant({ protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "fuzz", version: "1" } }),
      fc.constant({ _meta: { "io.modelcontextprotocol/protocolVersion": "2026-07-28" } }),
      fc.record({ cursor: fc.string({ maxLength: 20 }) }),
      jsonValue,
    ),
  }, { requiredKeys: ["jsonrpc", "method"] }),
  fc.record({ jsonrpc: fc.constant("2.0"), method: fc.constantFrom("notifications/initialized", "notifications/cancelled", "notifications/x") }),
  fc.record({ jsonrpc: fc.constant("2.0"), id: rpcId, result: jsonValue }),
  jsonValue,
);
/** An MCP POST body: a message, a batch (JSON array), or garbage. */
const mcpBody: fc.Arbitrary<string> = fc.oneof(
  { weight: 5, arbitrary: mcpMessage.map((m) => JSON.stringify(m) ?? "null") },
  { weight: 2, arbitrary: fc.array(mcpMessage, { maxLength: 4 }).map((b) => JSON.stringify(b)) },
  { weight: 1, arbitrary: fc.string({ maxLength: 60 }) },
  { weight: 1, arbitrary: mcpMessage.chain((m) => { const s = JSON.stringify(m) ?? ""; return fc.nat(s.length).map((n) => s.slice(0, n)); }) },
);

const credentials = fc.oneof(
  { weight: 3, arbitrary: fc.constant<[string, string][]>([]) },
  { weight: 2, arbitrary: fc.constant<[string, string][]>([["authorization", `Bearer ${fuzzKeys.member}`]]) },
  { weight: 1, arbitrary: fc.constant<[string, string][]>([["x-api-key", fuzzKeys.restricted]]) },
  { weight: 1, arbitrary: headerValue.map((v): [string, string][] => [["authorization", `Bearer ${v}`]]) },
  { weight: 1, arbitrary: fc.constantFrom<[string, string][]>([["authorization", "Basic Zm9vOmJhcg=="]], [["authorization", "Bearer"]], [["x-api-key", ""]], [["authorization", `Bearer ${fuzzKeys.member}`], ["x-api-key", fuzzKeys.restricted]]) },
);

/** Headers beside content type and credentials: timeouts, encodings, origins, MCP's own. */
const extraHeader: fc.Arbitrary<[string, string]> = fc.oneof(
  fc.tuple(fc.constantFrom("grpc-timeout"), fc.constantFrom("1S", "100m", "1n", "99999999H", "-1S", "abc", "", "5")),
  fc.tuple(fc.constantFrom("connect-timeout-ms"), fc.constantFrom("0", "1", "100", "-5", "1e9", "x", "99999999999")),
  fc.tuple(fc.constantFrom("content-encoding", "connect-content-encoding", "grpc-encoding", "accept-encoding", "grpc-accept-encoding", "connect-accept-encoding"), fc.constantFrom("gzip", "br", "identity", "deflate", "zstd", "x", "")),
  fc.tuple(fc.constantFrom("connect-protocol-version"), fc.constantFrom("1", "2", "")),
  fc.tuple(fc.constantFrom("te"), fc.constantFrom("trailers", "gzip")),
  fc.tuple(fc.constantFrom("origin"), fc.constantFrom("http://127.0.0.1", "https://evil.example", "null", "http://localhost:1")),
  fc.tuple(fc.constantFrom("accept"), fc.constantFrom("application/json, text/event-stream", "application/json", "text/event-stream", "*/*", "text/html")),
  fc.tuple(fc.constantFrom("mcp-protocol-version"), fc.constantFrom("2025-06-18", "2026-07-28", "1999-01-01", "x")),
  fc.tuple(fc.constantFrom("mcp-session-id", "last-event-id", "x-forwarded-for", "x-request-id", "expect"), fc.oneof(headerValue, fc.constantFrom("100-continue", "1.2.3.4"))),
  fc.tuple(token.map((t) => t.toLowerCase()), headerValue),
);

const contentTypes: Record<Surface, readonly string[]> = {
  connect: ["application/json", "application/proto", "application/connect+json", "application/connect+proto", "application/json; charset=utf-8"],
  grpc: ["application/grpc", "application/grpc+proto", "application/grpc+json"],
  "grpc-web": ["application/grpc-web", "application/grpc-web+proto", "application/grpc-web+json", "application/grpc-web-text"],
  mcp: ["application/json", "application/json; charset=utf-8"],
  plain: ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", "application/json; charset=latin1", "APPLICATION/JSON", "application/grpc; x", "application/proto+json"],
};

/** The body of a case, given its surface and content type. */
function bodyFor(surface: Surface, contentType: string | undefined): fc.Arbitrary<Uint8Array> {
  const proto = contentType?.includes("proto") === true || contentType === "application/grpc" || contentType === "application/grpc-web";
  const message = proto ? protoMessage : connectJson.map(utf8);
  if (surface === "mcp") return mcpBody.map(utf8);
  if (surface === "grpc" || surface === "grpc-web" || contentType?.startsWith("application/connect+") === true) {
    return fc.oneof({ weight: 6, arbitrary: envelope(message) }, { weight: 1, arbitrary: message }, { weight: 1, arbitrary: fc.constant(new Uint8Array()) });
  }
  return fc.oneof({ weight: 6, arbitrary: message }, { weight: 1, arbitrary: bytes }, { weight: 1, arbitrary: fc.constant(new Uint8Array()) });
}

const surfaceArb = fc.constantFrom<Surface>("connect", "connect", "grpc", "grpc-web", "mcp", "mcp", "plain");

/** The path and content type for a surface, now and then mismatched on purpose. */
function routeFor(surface: Surface): fc.Arbitrary<{ target: string; contentType: string | undefined }> {
  const path =
    surface === "mcp"
      ? fc.oneof({ weight: 8, arbitrary: fc.constant("/mcp") }, { weight: 1, arbitrary: fc.constantFrom("/mcp?x=1", "/MCP", "/mcp/") })
      : surface === "plain"
        ? fc.constantFrom(...plainPaths)
        : fc.constantFrom(...rpcPaths);
  const query = fc.oneof(
    { weight: 6, arbitrary: fc.constant("") },
    { weight: 2, arbitrary: fc.constantFrom("?encoding=json&message=%7B%7D", "?encoding=proto&base64=1&message=!!", "?encoding=json&message=%7B", "?connect=v1&encoding=json&message=%7B%22name%22%3A%22echo%22%7D&compression=gzip") },
    { weight: 1, arbitrary: fc.string({ maxLength: 20 }).map((s) => `?${encodeURIComponent(s)}`) },
  );
  const weird = fc.oneof(
    fc.constantFrom("http://127.0.0.1/health", "/toolwire.v1.ToolService/CallTool/extra", "/toolwire.v1.ToolService//CallTool", "/" + "a".repeat(5000)),
    fc.string({ maxLength: 30 }).map((s) => `/${encodeURI(s)}`),
  );
  const target = fc.oneof({ weight: 12, arbitrary: fc.tuple(path, query).map(([p, q]) => p + q) }, { weight: 1, arbitrary: weird });
  const contentType = fc.oneof(
    { weight: 10, arbitrary: fc.constantFrom(...contentTypes[surface]) },
    { weight: 2, arbitrary: fc.constantFrom(...Object.values(contentTypes).flat()) },
    { weight: 1, arbitrary: fc.constant(undefined) },
    { weight: 1, arbitrary: headerValue },
  );
  return fc.record({ target, contentType });
}

const wireArb = fc.oneof(
  { weight: 4, arbitrary: fc.constant<Wire>("http/1.1") },
  { weight: 2, arbitrary: fc.constant<Wire>("http/1.0") },
  { weight: 3, arbitrary: fc.constant<Wire>("h2") },
  { weight: 1, arbitrary: fc.constant<Wire>("h2-frames") },
);
const hostArb = fc.oneof(
  { weight: 12, arbitrary: fc.constant<HostMode>("good") },
  { weight: 1, arbitrary: fc.constantFrom<HostMode>("missing", "duplicate", "empty", "foreign", "garbage") },
);
const framingArb = fc.oneof(
  { weight: 10, arbitrary: fc.constant<Framing>("length") },
  { weight: 3, arbitrary: fc.constant<Framing>("chunked") },
  { weight: 1, arbitrary: fc.constantFrom<Framing>("bad-chunked", "short", "none") },
);
const cutArb = fc.oneof({ weight: 20, arbitrary: fc.constant<Cut>("none") }, { weight: 1, arbitrary: fc.constantFrom<Cut>("early", "mid-body") });
const frameFaultArb = fc.constantFrom<FrameFault>(
  "none", "no-authority", "no-path", "no-method", "uppercase-name", "data-on-stream-0", "oversized-frame",
  "window-update-0", "stray-continuation", "truncated-frame", "even-stream-id", "bad-padding", "rst-then-data",
);

/** One fuzz request: a surface, then a route, headers and a body that mostly fit it. */
export const fuzzCase: fc.Arbitrary<FuzzCase> = surfaceArb.chain((surface) =>
  routeFor(surface).chain(({ target, contentType }) =>
    fc.record({
      wire: wireArb,
      surface: fc.constant(surface),
      method: surface === "mcp" ? fc.oneof({ weight: 6, arbitrary: fc.constant("POST") }, { weight: 1, arbitrary: methodArb }) : methodArb,
      target: fc.constant(target),
      host: hostArb,
      headers: fc
        .tuple(credentials, fc.array(extraHeader, { maxLength: 3 }))
        .map(([cred, extra]) => [
          ...(contentType === undefined ? [] : [["content-type", contentType] as [string, string]]),
          ...(surface === "mcp" ? [["accept", "application/json, text/event-stream"] as [string, string]] : []),
          ...cred,
          ...extra,
        ]),
      body: bodyFor(surface, contentType),
      framing: framingArb,
      cut: cutArb,
      frameFault: frameFaultArb,
    }),
  ),
);
