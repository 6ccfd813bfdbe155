import { execFile } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { readReadme } from "../helpers/readme.js";
import { renderNginxConfig } from "./nginx.js";

/** The nginx block of the README's Deployment section. */
async function readmeNginx(): Promise<string> {
  const readme = await readReadme();
  const section = readme.slice(readme.indexOf("### Several instances, Redis and nginx"));
  const block = /```nginx\n([\s\S]*?)```/.exec(section)?.[1];
  if (block === undefined) throw new Error("the README's Deployment section has no nginx block");
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

describe("the README's nginx configuration", () => {
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
