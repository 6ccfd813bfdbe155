import { pino } from "pino";
import { describe, expect, it } from "vitest";
import { EventType } from "../../gen/proto/toolwire/v1/monitor_service_pb.js";
import { createToolwireApp } from "../../src/app/index.js";
import { toolClient } from "../helpers/server.js";
import { monitorClient, readWatch } from "../server/monitor-helpers.js";

describe("createToolwireApp", () => {
  it("bounds events as the monitoring settings say: arguments over eventArgumentsMaxBytes are cut", async () => {
    const server = await createToolwireApp(
      { server: { port: 0 }, monitoring: { includeArguments: true, eventArgumentsMaxBytes: 100, eventBufferBytes: 1_048_576 } },
      { logger: pino({ level: "silent" }) },
    );
    const { url } = await server.listen();
    try {
      const message = "z".repeat(200);
      const result = await readWatch(
        (signal) => monitorClient(url).watchEvents({ types: [EventType.TOOL_CALLED] }, { signal }),
        (events) => events.length >= 1,
        (m) => {
          if (m.kind.case === "heartbeat") void toolClient(url).callTool({ name: "echo", arguments: { message } });
        },
      );
      expect(result.events[0]?.arguments).toEqual({ $truncated: { bytes: JSON.stringify({ message, uppercase: false }).length, maxBytes: 100 } });
    } finally {
      await server.close(0);
    }
  });
});
