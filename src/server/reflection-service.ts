import { createRegistry, toBinary, type DescFile, type DescService, type Registry } from "@bufbuild/protobuf";
import { FileDescriptorProtoSchema } from "@bufbuild/protobuf/wkt";
import { Code, type ServiceImpl } from "@connectrpc/connect";
import { ServerReflection as ServerReflectionV1 } from "../../gen/proto/grpc/reflection/v1/reflection_pb.js";
import { ServerReflection as ServerReflectionV1alpha } from "../../gen/proto/grpc/reflection/v1alpha/reflection_pb.js";

/** What a server can tell reflection clients: its services and the files describing them. */
export interface ReflectionIndex {
  /** Fully-qualified names of the services served, sorted. */
  readonly services: readonly string[];
  /** The file of this name ("toolwire/v1/tool.proto"). */
  fileByName(name: string): DescFile | undefined;
  /** The file defining a service, method, message, field, enum, enum value or extension. */
  fileContainingSymbol(symbol: string): DescFile | undefined;
  /** The file defining extension `number` of `type`. */
  fileContainingExtension(type: string, number: number): DescFile | undefined;
  /** The extension numbers of a message type; undefined when the type is not known. */
  extensionNumbers(type: string): number[] | undefined;
  /** `file` and its transitive imports, the file first, each serialized once. */
  withDependencies(file: DescFile): { readonly name: string; readonly bytes: Uint8Array }[];
}

/** Builds the reflection index of `services` (their files and every file those import). */
export function createReflectionIndex(services: readonly DescService[]): ReflectionIndex {
  const files = new Map<string, DescFile>();
  const visit = (file: DescFile) => {
    if (files.has(file.proto.name)) return;
    files.set(file.proto.name, file);
    for (const dependency of file.dependencies) visit(dependency);
  };
  for (const service of services) visit(service.file);
  const registry: Registry = createRegistry(...files.values());
  const serialized = new Map<DescFile, Uint8Array>();
  const bytesOf = (file: DescFile) => {
    let bytes = serialized.get(file);
    if (bytes === undefined) {
      bytes = toBinary(FileDescriptorProtoSchema, file.proto);
      serialized.set(file, bytes);
    }
    return bytes;
  };

  return {
    services: [...new Set(services.map((s) => s.typeName))].sort(),
    fileByName: (name) => files.get(name),
    fileContainingSymbol(symbol) {
      const name = symbol.startsWith(".") ? symbol.slice(1) : symbol;
      const direct = registry.get(name);
      if (direct !== undefined) return direct.file;
      const dot = name.lastIndexOf(".");
      if (dot === -1) return undefined;
      const parent = registry.get(name.slice(0, dot));
      const member = name.slice(dot + 1);
      switch (parent?.kind) {
        case "service":
          return parent.methods.some((m) => m.name === member) ? parent.file : undefined;
        case "message":
          return parent.fields.some((f) => f.name === member) || parent.oneofs.some((o) => o.name === member) ? parent.file : undefined;
        case "enum":
          return parent.values.some((v) => v.name === member) ? parent.file : undefined;
        default:
          break;
      }
      // Enum values are scoped like siblings of their enum: "pkg.VALUE_NAME".
      for (const type of registry) {
        if (type.kind === "enum" && type.values.some((v) => v.name === member) && type.typeName.startsWith(`${name.slice(0, dot)}.`)) {
          return type.file;
        }
      }
      return undefined;
    },
    fileContainingExtension(type, number) {
      const message = registry.getMessage(type);
      return message === undefined ? undefined : registry.getExtensionFor(message, number)?.file;
    },
    extensionNumbers(type) {
      const message = registry.getMessage(type);
      if (message === undefined) return undefined;
      const numbers: number[] = [];
      for (const desc of registry) if (desc.kind === "extension" && desc.extendee.typeName === type) numbers.push(desc.number);
      return numbers.sort((a, b) => a - b);
    },
    withDependencies(file) {
      const ordered: DescFile[] = [];
      const seen = new Set<DescFile>();
      const walk = (f: DescFile) => {
        if (seen.has(f)) return;
        seen.add(f);
        ordered.push(f);
        for (const dependency of f.dependencies) walk(dependency);
      };
      walk(file);
      return ordered.map((f) => ({ name: f.proto.name, bytes: bytesOf(f) }));
    },
  };
}

/** A reflection request, as v1 and v1alpha both shape it. */
interface ReflectionRequest {
  readonly host: string;
  readonly messageRequest:
    | { readonly case: "fileByFilename" | "fileContainingSymbol" | "allExtensionNumbersOfType" | "listServices"; readonly value: string }
    | { readonly case: "fileContainingExtension"; readonly value: { readonly containingType: string; readonly extensionNumber: number } }
    | { readonly case: undefined; readonly value?: undefined };
}

/** A reflection response, as v1 and v1alpha both shape it. */
interface ReflectionResponse {
  validHost: string;
  originalRequest: {
    host: string;
    messageRequest:
      | { case: "fileByFilename" | "fileContainingSymbol" | "allExtensionNumbersOfType" | "listServices"; value: string }
      | { case: "fileContainingExtension"; value: { containingType: string; extensionNumber: number } }
      | { case: undefined; value?: undefined };
  };
  messageResponse:
    | { case: "fileDescriptorResponse"; value: { fileDescriptorProto: Uint8Array[] } }
    | { case: "allExtensionNumbersResponse"; value: { baseTypeName: string; extensionNumber: number[] } }
    | { case: "listServicesResponse"; value: { service: { name: string }[] } }
    | { case: "errorResponse"; value: { errorCode: number; errorMessage: string } };
}

/**
 * Answers one request. `sent` holds the files already sent on this stream: a file asked for is
 * always sent, its imports only once per stream (clients keep what they were given).
 */
function answer(index: ReflectionIndex, req: ReflectionRequest, sent: Set<string>): ReflectionResponse {
  const request = req.messageRequest;
  const originalRequest: ReflectionResponse["originalRequest"] = {
    host: req.host,
    messageRequest:
      request.case === "fileContainingExtension"
        ? { case: request.case, value: { containingType: request.value.containingType, extensionNumber: request.value.extensionNumber } }
        : request.case === undefined
          ? { case: undefined }
          : { case: request.case, value: request.value },
  };
  const base = { validHost: req.host, originalRequest };
  const notFound = (message: string): ReflectionResponse => ({
    ...base,
    messageResponse: { case: "errorResponse", value: { errorCode: Code.NotFound, errorMessage: message } },
  });
  const filesOf = (file: DescFile | undefined, what: string): ReflectionResponse => {
    if (file === undefined) return notFound(what);
    const out: Uint8Array[] = [];
    for (const [i, { name, bytes }] of index.withDependencies(file).entries()) {
      if (i > 0 && sent.has(name)) continue;
      sent.add(name);
      out.push(bytes);
    }
    return { ...base, messageResponse: { case: "fileDescriptorResponse", value: { fileDescriptorProto: out } } };
  };

  switch (request.case) {
    case "listServices":
      return { ...base, messageResponse: { case: "listServicesResponse", value: { service: index.services.map((name) => ({ name })) } } };
    case "fileByFilename":
      return filesOf(index.fileByName(request.value), `file "${request.value.slice(0, 200)}" not found`);
    case "fileContainingSymbol":
      return filesOf(index.fileContainingSymbol(request.value), `symbol "${request.value.slice(0, 200)}" not found`);
    case "fileContainingExtension": {
      const { containingType, extensionNumber } = request.value;
      return filesOf(
        index.fileContainingExtension(containingType, extensionNumber),
        `extension ${extensionNumber} of "${containingType.slice(0, 200)}" not found`,
      );
    }
    case "allExtensionNumbersOfType": {
      const numbers = index.extensionNumbers(request.value);
      if (numbers === undefined) return notFound(`message type "${request.value.slice(0, 200)}" not found`);
      return { ...base, messageResponse: { case: "allExtensionNumbersResponse", value: { baseTypeName: request.value, extensionNumber: numbers } } };
    }
    default:
      return {
        ...base,
        messageResponse: {
          case: "errorResponse",
          value: { errorCode: Code.InvalidArgument, errorMessage: "the request names nothing to look up (message_request is not set)" },
        },
      };
  }
}

async function* answerAll(index: ReflectionIndex, requests: AsyncIterable<ReflectionRequest>): AsyncIterable<ReflectionResponse> {
  const sent = new Set<string>();
  for await (const req of requests) yield answer(index, req, sent);
}

/** Implements grpc.reflection.v1.ServerReflection over `index`. */
export function createReflectionServiceV1(index: ReflectionIndex): ServiceImpl<typeof ServerReflectionV1> {
  return { serverReflectionInfo: (requests) => answerAll(index, requests) };
}

/** Implements grpc.reflection.v1alpha.ServerReflection (the same protocol under its older name). */
export function createReflectionServiceV1alpha(index: ReflectionIndex): ServiceImpl<typeof ServerReflectionV1alpha> {
  return { serverReflectionInfo: (requests) => answerAll(index, requests) };
}
