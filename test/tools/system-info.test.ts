import os from "node:os";
import { describe, expect, it } from "vitest";
import { systemInfo } from "../../src/tools/system-info.js";
import { runTool } from "../helpers/run-tool.js";
import { inputValidator, outputValidator } from "../helpers/tool-schemas.js";

const validateInput = inputValidator(systemInfo);
const validateOutput = outputValidator(systemInfo);

describe("system_info", () => {
  it("describes every section when none are asked for", async () => {
    const info = await runTool(systemInfo, {});
    expect(validateOutput(info).message).toBe("");
    expect(Object.keys(info).sort()).toEqual(["cpu", "disk", "memory", "network", "os", "runtime", "uptime"]);
    expect(info.os).toEqual({
      platform: process.platform,
      arch: process.arch,
      hostname: os.hostname(),
      type: os.type(),
      release: os.release(),
    });
    expect(info.cpu?.cores).toBe(os.cpus().length);
    expect(info.runtime).toEqual({ nodeVersion: process.version, pid: process.pid });
  });

  it("reports consistent memory figures", async () => {
    const { memory } = await runTool(systemInfo, { sections: ["memory"] });
    expect(memory?.totalBytes).toBe(os.totalmem());
    expect(memory!.usedBytes + memory!.freeBytes).toBe(memory!.totalBytes);
    expect(memory!.usedPercent).toBeGreaterThan(0);
    expect(memory!.usedPercent).toBeLessThanOrEqual(100);
  });

  it("measures the root file system", async () => {
    const { disk } = await runTool(systemInfo, { sections: ["disk"] });
    expect(disk?.path).toBe("/");
    expect(disk!.totalBytes).toBeGreaterThan(0);
    expect(disk!.freeBytes).toBeLessThanOrEqual(disk!.totalBytes);
    expect(disk!.availableBytes).toBeLessThanOrEqual(disk!.freeBytes);
  });

  it("lists every address of every network interface", async () => {
    const { network } = await runTool(systemInfo, { sections: ["network"] });
    const expected = Object.values(os.networkInterfaces()).flatMap((addresses) => addresses ?? []);
    expect(network?.interfaces).toHaveLength(expected.length);
    for (const i of network?.interfaces ?? []) {
      expect(i.family === "IPv4" || i.family === "IPv6").toBe(true);
    }
  });

  it("reports system and process uptime", async () => {
    const { uptime } = await runTool(systemInfo, { sections: ["uptime"] });
    expect(uptime!.processSeconds).toBeGreaterThan(0);
    expect(uptime!.systemSeconds).toBeGreaterThanOrEqual(uptime!.processSeconds);
  });

  it("returns only the sections asked for", async () => {
    const info = await runTool(systemInfo, { sections: ["cpu", "runtime"] });
    expect(Object.keys(info).sort()).toEqual(["cpu", "runtime"]);
    expect(validateOutput(info).message).toBe("");
  });

  describe("input schema", () => {
    it("accepts no input and a list of sections", () => {
      expect(validateInput({}).valid).toBe(true);
      expect(validateInput({ sections: ["os", "disk"] }).valid).toBe(true);
    });

    it("rejects an empty, repeated or unknown section list", () => {
      expect(validateInput({ sections: [] }).message).toMatch(/\/sections: must NOT have fewer than 1 items/);
      expect(validateInput({ sections: ["os", "os"] }).message).toMatch(/\/sections: must NOT have duplicate items/);
      expect(validateInput({ sections: ["gpu"] }).message).toMatch(/\/sections\/0: must be one of/);
      expect(validateInput({ verbose: true }).message).toMatch(/\/verbose: is not allowed/);
    });
  });
});
