import { execFile } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { docSection } from "../helpers/readme.js";
import { renderNginxConfig } from "./nginx.js";

/** The nginx block of docs/deployment.md. */
async function readmeNginx(): Promise<string> {
  const section = await docSection("docs/deployment.md", "Several instances, Redis and nginx");
  const block = /```nginx\n([\s\S]*?)```/.exec(section)?.[1];
  if (block === undefined) throw new Error("docs/deployment.md has no nginx block in its Several instances section");
  return block;
}

/**
 * The directives and block headers of an nginx configuration, whitespace-normalized, with
 * instance addresses replaced and `listen` lines (ports differ) left out.
 */
function directives(config: string): Set<string> {
  return new Set(
    config
      .replace(/#.*$/gm, "")
      .split(/[;{}]/)
      .map((entry) => entry.trim().replace(/\s+/g, " ").replace(/\b\d+\.\d+\.\d+\.\d+:\d+\b/g, "ADDRESS"))
      .filter((entry) => entry !== "" && !entry.startsWith("listen ")),
  );
}

describe("the nginx configuration of docs/deployment.md", () => {
  it("says only what the tested template says", async () => {
    const tested = directives(await renderNginxConfig({ dir: "/tmp/x", httpPort: 1, grpcPort: 2, ports: [3, 4] }));
    const shown = [...directives(await readmeNginx())];
    expect(shown.length).toBeGreaterThan(20);
    expect(shown.filter((directive) => !tested.has(directive))).toEqual([]);
  });

  it("is a configuration nginx accepts", async () => {
    const dir = await mkdtemp(join(tmpdir(), "toolwire-readme-nginx-"));
    try {
      const temp = ["client_body", "proxy", "fastcgi", "uwsgi", "scgi"].map((name) => `${name}_temp_path ${join(dir, name)};`).join(" ");
      const config = `pid ${join(dir, "nginx.pid")};\nevents {}\nhttp {\n${temp}\n${await readmeNginx()}\n}\n`;
      await writeFile(join(dir, "nginx.conf"), config);
      const { stderr } = await promisify(execFile)("nginx", ["-t", "-c", join(dir, "nginx.conf"), "-p", dir, "-e", join(dir, "error.log")]);
      expect(stderr).toContain("test is successful");
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
