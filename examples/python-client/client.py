#!/usr/bin/env python3
"""Calls a Toolwire server over gRPC with code that `buf generate` made from proto/.

Usage: python3 client.py [ADDRESS]

ADDRESS is host:port or a URL (http://host:port, https://host:port); without it, the
TOOLWIRE_ADDRESS environment variable, else localhost:8081. TOOLWIRE_API_KEY, when set, is sent
as the x-api-key header; without it the server sees the anonymous caller.
"""

import os
import sys
from pathlib import Path
from urllib.parse import urlsplit

# The generated modules import each other as `toolwire.v1.…`, so their root goes on the path.
sys.path.insert(0, str(Path(__file__).resolve().parent / "gen"))

import grpc  # noqa: E402
from google.protobuf import descriptor_pb2, json_format, message_factory, struct_pb2  # noqa: E402

from toolwire.v1 import errors_pb2  # noqa: E402
from toolwire.v1 import tool_service_pb2 as pb  # noqa: E402
from toolwire.v1 import tool_service_pb2_grpc as pb_grpc  # noqa: E402

# Seconds each call may take; gRPC sends it to the server as grpc-timeout.
TIMEOUT = 30


def open_channel(address: str) -> grpc.Channel:
    """An insecure (h2c) channel for host:port or http://, a TLS one for https://."""
    if "://" not in address:
        return grpc.insecure_channel(address)
    url = urlsplit(address)
    if url.scheme == "https":
        return grpc.secure_channel(url.netloc, grpc.ssl_channel_credentials())
    return grpc.insecure_channel(url.netloc)


def struct(values: dict) -> struct_pb2.Struct:
    """A google.protobuf.Struct (the tool's arguments object) from a dict."""
    message = struct_pb2.Struct()
    message.update(values)
    return message


def plain(message) -> dict:
    """A Struct (structured_content) as a dict; numbers come back as floats."""
    return json_format.MessageToDict(message)


def status_class():
    """A message class that reads google.rpc.Status, the grpc-status-details-bin trailer.

    pip's grpcio-status package brings google.rpc.Status (rpc_status.from_call); Debian has no
    package of it, so this describes the same fields, with a message laid out like
    google.protobuf.Any for the details, and builds the class at run time.
    """
    Field = descriptor_pb2.FieldDescriptorProto
    file = descriptor_pb2.FileDescriptorProto(name="toolwire_example/status.proto", package="toolwire_example", syntax="proto3")
    detail = file.message_type.add(name="Detail")
    detail.field.add(name="type_url", number=1, type=Field.TYPE_STRING, label=Field.LABEL_OPTIONAL)
    detail.field.add(name="value", number=2, type=Field.TYPE_BYTES, label=Field.LABEL_OPTIONAL)
    status = file.message_type.add(name="Status")
    status.field.add(name="code", number=1, type=Field.TYPE_INT32, label=Field.LABEL_OPTIONAL)
    status.field.add(name="message", number=2, type=Field.TYPE_STRING, label=Field.LABEL_OPTIONAL)
    status.field.add(name="details", number=3, type=Field.TYPE_MESSAGE, type_name=".toolwire_example.Detail", label=Field.LABEL_REPEATED)
    return message_factory.GetMessages([file])["toolwire_example.Status"]


Status = status_class()


def error_info(err: grpc.RpcError):
    """The toolwire.v1.ErrorInfo detail of a failed call (its stable reason), or None."""
    for key, value in err.trailing_metadata() or ():
        if key != "grpc-status-details-bin":
            continue
        for detail in Status.FromString(value).details:
            if detail.type_url.endswith("/toolwire.v1.ErrorInfo"):
                return errors_pb2.ErrorInfo.FromString(detail.value)
    return None


def list_tools(stub: pb_grpc.ToolServiceStub, metadata) -> None:
    """Lists the tools this caller may call, one per line."""
    response = stub.ListTools(pb.ListToolsRequest(), metadata=metadata, timeout=TIMEOUT)
    print(f"{response.total_size} tools:")
    for tool in response.tools:
        print(f"  {tool.name} {tool.version} [{tool.category}] {tool.title}")


def call_calculator(stub: pb_grpc.ToolServiceStub, metadata) -> None:
    """Multiplies 6 by 7 with the calculator tool."""
    request = pb.CallToolRequest(name="calculator", arguments=struct({"operation": "multiply", "a": 6, "b": 7}))
    response = stub.CallTool(request, metadata=metadata, timeout=TIMEOUT)
    result = plain(response.structured_content)["result"]
    # Struct numbers are doubles: print 42, not 42.0, when the result is whole.
    print(f"calculator: 6 * 7 = {int(result) if result == int(result) else result}")


def call_echo(stub: pb_grpc.ToolServiceStub, metadata) -> None:
    """Sends a message through the echo tool, upper-cased."""
    request = pb.CallToolRequest(name="echo", arguments=struct({"message": "hello from python", "uppercase": True}))
    response = stub.CallTool(request, metadata=metadata, timeout=TIMEOUT)
    print(f"echo: {plain(response.structured_content)['message']} "
          f"({response.tool_name} {response.tool_version}, request {response.request_id})")


def call_unknown_tool(stub: pb_grpc.ToolServiceStub, metadata) -> None:
    """Calls a tool that does not exist: the server answers NOT_FOUND with a message."""
    try:
        stub.CallTool(pb.CallToolRequest(name="no_such_tool"), metadata=metadata, timeout=TIMEOUT)
    except grpc.RpcError as err:
        # A failed call raises an RpcError that is also the call: its status code and message.
        print(f"no_such_tool: {err.code().name}: {err.details()}")
        # The server also says why in a machine-readable way, in the status details.
        info = error_info(err)
        if info is not None:
            print(f"no_such_tool: reason {info.reason}, metadata {dict(info.metadata)}")
        return
    raise SystemExit("no_such_tool: the call succeeded, but the tool should not exist")


def stream_monitor(stub: pb_grpc.ToolServiceStub, metadata) -> None:
    """Streams monitor_resources: progress messages as they come, then the one final result."""
    request = pb.CallToolStreamRequest(name="monitor_resources", arguments=struct({"duration": 1, "interval": 0.5}))
    for message in stub.CallToolStream(request, metadata=metadata, timeout=TIMEOUT):
        event = message.WhichOneof("event")
        if event == "progress":
            total = f"/{message.progress.total:g}" if message.progress.HasField("total") else ""
            print(f"monitor_resources progress {message.progress.done:g}{total}: {message.progress.message}")
        elif event == "partial":
            print(f"monitor_resources partial: {len(message.partial.content)} content block(s)")
        elif event == "log":
            print(f"monitor_resources log: {message.log.message}")
        elif event == "result":
            samples = int(plain(message.result.structured_content)["samples"])
            print(f"monitor_resources result: {samples} samples")


def main() -> None:
    address = sys.argv[1] if len(sys.argv) > 1 else os.environ.get("TOOLWIRE_ADDRESS", "localhost:8081")
    api_key = os.environ.get("TOOLWIRE_API_KEY")
    metadata = [("x-api-key", api_key)] if api_key else []
    with open_channel(address) as channel:
        stub = pb_grpc.ToolServiceStub(channel)
        try:
            list_tools(stub, metadata)
            call_calculator(stub, metadata)
            call_echo(stub, metadata)
            call_unknown_tool(stub, metadata)
            stream_monitor(stub, metadata)
        except grpc.RpcError as err:
            # Anything unexpected (server down, a key it does not know): say what and exit 1.
            sys.exit(f"error: {err.code().name}: {err.details()}")


if __name__ == "__main__":
    main()
