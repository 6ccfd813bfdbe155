import { execFile } from "node:child_process";
import { join } from "node:path";
import { promisify } from "node:util";
import { create, fromBinary } from "@bufbuild/protobuf";
import { FileDescriptorProtoSchema } from "@bufbuild/protobuf/wkt";
import { createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  ServerReflection,
  ServerReflectionRequestSchema,
  type ServerReflectionRequest,
  type ServerReflectionResponse,
} from "../../gen/proto/grpc/reflection/v1/reflection_pb.js";
import { ServerReflection as ServerReflectionV1alpha } from "../../gen/proto/grpc/reflection/v1alpha/reflection_pb.js";
import { echo } from "../../src/tools/echo.js";
import type { TestServer } from "../helpers/server.js";
import { startMonitoredServer } from "./monitor-helpers.js";

const run = promisify(execFile);
const buf = join(import.meta.dirname, "../../node_modules/.bin/buf");

let server: TestServer;
beforeAll(async () => {
  server = await startMonitoredServer({ tools: [echo] });
});
afterAll(() => server.close());

/** Runs `buf curl` over gRPC with HTTP/2 prior knowledge; no .proto files are given to it. */
async function bufCurl(...args: string[]): Promise<string> {
  const { stdout } = await run(buf, ["curl", "--protocol", "grpc", "--http2-prior-knowledge", ...args], { timeout: 20_000 });
  return stdout;
}

const allServices = [
  "grpc.health.v1.Health",
  "grpc.reflection.v1.ServerReflection",
  "grpc.reflection.v1alpha.ServerReflection",
  "toolwire.v1.MonitorService",
  "toolwire.v1.ToolService",
];

describe("server reflection with buf curl", () => {
  it("lists the services (--list-services)", async () => {
    expect((await bufCurl("--list-services", server.url)).trim().split("\n")).toEqual(allServices);
  });

  it("lists the methods (--list-methods)", async () => {
    const methods = (await bufCurl("--list-methods", server.url)).trim().split("\n");
    for (const method of [
      "toolwire.v1.ToolService/CallTool",
      "toolwire.v1.ToolService/CallToolStream",
      "toolwire.v1.MonitorService/WatchEvents",
      "toolwire.v1.MonitorService/GetStats",
      "toolwire.v1.MonitorService/GetServerInfo",
      "grpc.health.v1.Health/Check",
      "grpc.health.v1.Health/Watch",
    ]) {
      expect(methods).toContain(method);
    }
  });

  it("calls a tool without --schema, the schema coming from reflection", async () => {
    const out = await bufCurl("-d", '{"name": "echo", "arguments": {"message": "reflected"}}', `${server.url}/toolwire.v1.ToolService/CallTool`);
    expect(JSON.parse(out)).toMatchObject({ structuredContent: { message: "reflected" }, toolName: "echo" });
  });

  it("calls GetStats and the health check without --schema", async () => {
    expect(JSON.parse(await bufCurl("-d", "{}", `${server.url}/toolwire.v1.MonitorService/GetStats`))).toMatchObject({ scope: "STATS_SCOPE_INSTANCE" });
    expect(JSON.parse(await bufCurl(`${server.url}/grpc.health.v1.Health/Check`))).toEqual({ status: "SERVING" });
  });

  it.each(["grpc-v1", "grpc-v1alpha"])("works with the %s reflection protocol", async (protocol) => {
    const out = await bufCurl("--reflect-protocol", protocol, "-d", '{"name": "echo"}', `${server.url}/toolwire.v1.ToolService/GetTool`);
    expect(JSON.parse(out)).toMatchObject({ tool: { name: "echo", version: "1.0.0" } });
  });
});

describe("server reflection protocol", () => {
  async function ask(requests: Parameters<typeof create<typeof ServerReflectionRequestSchema>>[1][]): Promise<ServerReflectionResponse[]> {
    const client = createClient(ServerReflection, createGrpcTransport({ baseUrl: server.url }));
    async function* messages(): AsyncIterable<ServerReflectionRequest> {
      for (const r of requests) yield create(ServerReflectionRequestSchema, r);
    }
    const responses: ServerReflectionResponse[] = [];
    for await (const response of client.serverReflectionInfo(messages())) responses.push(response);
    return responses;
  }

  function fileNames(response: ServerReflectionResponse | undefined): string[] {
    if (response?.messageResponse.case !== "fileDescriptorResponse") return [];
    return response.messageResponse.value.fileDescriptorProto.map((bytes) => fromBinary(FileDescriptorProtoSchema, bytes).name);
  }

  it("answers a method symbol with its file and every import, each import once per stream", async () => {
    const [first, second] = await ask([
      { host: "h", messageRequest: { case: "fileContainingSymbol", value: "toolwire.v1.ToolService.CallTool" } },
      { host: "h", messageRequest: { case: "fileContainingSymbol", value: "toolwire.v1.MonitorService" } },
    ]);
    expect(first?.validHost).toBe("h");
    expect(first?.originalRequest?.messageRequest).toEqual({ case: "fileContainingSymbol", value: "toolwire.v1.ToolService.CallTool" });
    const names = fileNames(first);
    expect(names[0]).toBe("toolwire/v1/tool_service.proto");
    expect(names).toContain("toolwire/v1/tool.proto");
    expect(names).toContain("google/protobuf/struct.proto");
    // struct.proto was sent already on this stream; monitor_service.proto's other imports were not.
    const later = fileNames(second);
    expect(later[0]).toBe("toolwire/v1/monitor_service.proto");
    expect(later).not.toContain("google/protobuf/struct.proto");
    expect(later).toContain("google/protobuf/timestamp.proto");
  });

  it("finds files by name, and messages, fields and enum values by symbol", async () => {
    const responses = await ask([
      { messageRequest: { case: "fileByFilename", value: "grpc/health/v1/health.proto" } },
      { messageRequest: { case: "fileContainingSymbol", value: "toolwire.v1.Event.sequence" } },
      { messageRequest: { case: "fileContainingSymbol", value: "toolwire.v1.EVENT_TYPE_TOOL_CALLED" } },
      { messageRequest: { case: "fileContainingSymbol", value: "grpc.health.v1.HealthCheckResponse.ServingStatus" } },
    ]);
    expect(responses.map((r) => fileNames(r)[0])).toEqual([
      "grpc/health/v1/health.proto",
      "toolwire/v1/monitor_service.proto",
      "toolwire/v1/monitor_service.proto",
      "grpc/health/v1/health.proto",
    ]);
  });

  it("answers NOT_FOUND errors for unknown files, symbols and extensions, and keeps the stream going", async () => {
    const responses = await ask([
      { messageRequest: { case: "fileByFilename", value: "nope.proto" } },
      { messageRequest: { case: "fileContainingSymbol", value: "nope.Nope" } },
      { messageRequest: { case: "fileContainingExtension", value: { containingType: "toolwire.v1.Event", extensionNumber: 100 } } },
      { messageRequest: { case: "allExtensionNumbersOfType", value: "toolwire.v1.Event" } },
      { messageRequest: { case: "listServices", value: "" } },
    ]);
    const errors = responses.slice(0, 3).map((r) => (r.messageResponse.case === "errorResponse" ? r.messageResponse.value : undefined));
    expect(errors.map((e) => e?.errorCode)).toEqual([5, 5, 5]);
    expect(errors[0]?.errorMessage).toBe('file "nope.proto" not found');
    expect(responses[3]?.messageResponse).toMatchObject({ case: "allExtensionNumbersResponse", value: { baseTypeName: "toolwire.v1.Event", extensionNumber: [] } });
    expect(responses[4]?.messageResponse.case).toBe("listServicesResponse");
  });

  it("serves the same over v1alpha", async () => {
    const client = createClient(ServerReflectionV1alpha, createGrpcTransport({ baseUrl: server.url }));
    async function* one() {
      yield { host: "", messageRequest: { case: "listServices" as const, value: "*" } };
    }
    const names: string[] = [];
    for await (const response of client.serverReflectionInfo(one())) {
      if (response.messageResponse.case === "listServicesResponse") names.push(...response.messageResponse.value.service.map((s) => s.name));
    }
    expect(names).toEqual(allServices);
  });
});
