import { isDeepStrictEqual } from "node:util";

/** Which server a server child runs. */
export type ServerKind = "bare-http" | "bare-connect" | "toolwire";

/** Arguments of the benchmarked echo call. */
export const echoArguments = { message: "hello" } as const;

/** The Connect JSON CallTool request body every target receives. */
export const callToolBody = JSON.stringify({ name: "echo", arguments: echoArguments });

/** Path of the Connect CallTool RPC. */
export const callToolPath = "/toolwire.v1.ToolService/CallTool";

/** One benchmarked server: how to start it, where to send the call, and what a correct answer is. */
export interface BenchTarget {
  /** Selects the server in the server child. */
  readonly kind: ServerKind;
  /** Name shown in the report. */
  readonly label: string;
  /** Request path the load is posted to. */
  readonly path: string;
  /** Whether a parsed response body is the correct echo of {@link callToolBody}. */
  readonly isCorrectResponse: (body: unknown) => boolean;
}

const echoesArguments = (body: unknown): boolean =>
  typeof body === "object" &&
  body !== null &&
  isDeepStrictEqual((body as { structuredContent?: unknown }).structuredContent, echoArguments);

/** The three servers, in the order they are benchmarked. */
export const benchTargets: readonly BenchTarget[] = [
  {
    kind: "bare-http",
    label: "bare node:http",
    path: "/echo",
    isCorrectResponse: (body) => isDeepStrictEqual(body, JSON.parse(callToolBody)),
  },
  { kind: "bare-connect", label: "bare connect-node", path: callToolPath, isCorrectResponse: echoesArguments },
  { kind: "toolwire", label: "toolwire", path: callToolPath, isCorrectResponse: echoesArguments },
];
