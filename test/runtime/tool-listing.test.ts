import { Code } from "@connectrpc/connect";
import { describe, expect, it } from "vitest";
import { createToolRegistry, type RegisteredTool } from "../../src/registry/tool-registry.js";
import { listTools, type ToolListFilter } from "../../src/runtime/tool-listing.js";
import { connectThrow, tool } from "../helpers/registry-fixtures.js";

/** A small catalogue with every kind of tool the filters care about. */
function catalogue(): readonly RegisteredTool[] {
  const registry = createToolRegistry();
  registry.register(tool({ name: "alpha", category: "math", tags: ["calc", "fast"], description: "Adds numbers together." }));
  registry.register(tool({ name: "beta", category: "math", tags: ["calc"], description: "Old subtraction.", deprecated: true }));
  registry.register(
    tool({ name: "gamma", title: "Gamma Ray", category: "system", tags: ["os"], description: "Shows system info.", experimental: true }),
  );
  registry.register(tool({ name: "delta", category: "system", tags: ["Net", "os"], description: "Pings HOSTS on the network." }));
  registry.register(tool({ name: "epsilon", description: "Echoes its input." }));
  // A tool whose default version is current although an older one is deprecated.
  registry.register(tool({ name: "zeta", version: "1.0.0", deprecated: true, description: "Zeta one." }));
  registry.register(tool({ name: "zeta", version: "2.0.0", description: "Zeta two." }));
  return registry.list();
}

function names(filter: ToolListFilter, visible = catalogue()): string[] {
  return listTools(visible, filter).tools.map((t) => t.name);
}

/** A catalogue of `count` plain tools named t000, t001, … registered in reverse order. */
function manyTools(count: number): readonly RegisteredTool[] {
  const registry = createToolRegistry();
  for (let i = count - 1; i >= 0; i--) registry.register(tool({ name: `t${String(i).padStart(3, "0")}` }));
  return registry.list();
}

/** Every page of a listing, following next page tokens. */
function allPages(visible: readonly RegisteredTool[], filter: ToolListFilter) {
  const pages = [];
  let token = "";
  for (let guard = 0; guard < 1000; guard++) {
    const page = listTools(visible, { ...filter, ...(token === "" ? {} : { pageToken: token }) });
    pages.push(page);
    token = page.nextPageToken;
    if (token === "") return pages;
  }
  throw new Error("listing never ended");
}

describe("listTools", () => {
  it("lists every non-deprecated tool sorted by name when no filter is set", () => {
    const page = listTools(catalogue(), {});
    expect(page.tools.map((t) => t.name)).toEqual(["alpha", "delta", "epsilon", "gamma", "zeta"]);
    expect(page.totalSize).toBe(5);
    expect(page.nextPageToken).toBe("");
  });

  it("judges deprecation by the listed (default) version", () => {
    const page = listTools(catalogue(), {});
    expect(page.tools.find((t) => t.name === "zeta")?.version).toBe("2.0.0");
  });

  it("filters by category", () => {
    expect(names({ category: "math" })).toEqual(["alpha"]);
    expect(names({ category: "system" })).toEqual(["delta", "gamma"]);
    expect(names({ category: "nothing" })).toEqual([]);
  });

  it("filters by tag", () => {
    expect(names({ tag: "os" })).toEqual(["delta", "gamma"]);
    expect(names({ tag: "calc" })).toEqual(["alpha"]);
    expect(names({ tag: "calc", includeDeprecated: true })).toEqual(["alpha", "beta"]);
  });

  it("combines filters", () => {
    expect(names({ category: "system", tag: "Net" })).toEqual(["delta"]);
    expect(names({ category: "math", tag: "os" })).toEqual([]);
  });

  it("matches the query case-insensitively against name, description and tags", () => {
    expect(names({ query: "GAMMA" })).toEqual(["gamma"]);
    expect(names({ query: "hosts" })).toEqual(["delta"]);
    expect(names({ query: "ADDS NUMBERS" })).toEqual(["alpha"]);
    expect(names({ query: "CaLc" })).toEqual(["alpha"]);
    expect(names({ query: "net" })).toEqual(["delta"]);
    expect(names({ query: "  echoes  " })).toEqual(["epsilon"]);
    expect(names({ query: "ray" })).toEqual(["gamma"]);
    expect(names({ query: "no such words" })).toEqual([]);
  });

  it("leaves deprecated tools out unless includeDeprecated is set", () => {
    expect(names({})).not.toContain("beta");
    expect(names({ includeDeprecated: true })).toEqual(["alpha", "beta", "delta", "epsilon", "gamma", "zeta"]);
    expect(names({ query: "subtraction" })).toEqual([]);
    expect(names({ query: "subtraction", includeDeprecated: true })).toEqual(["beta"]);
  });

  it("keeps experimental tools unless excludeExperimental is set", () => {
    expect(names({})).toContain("gamma");
    expect(names({ excludeExperimental: true })).toEqual(["alpha", "delta", "epsilon", "zeta"]);
  });

  it("lists the categories and tags of all visible tools, sorted, whatever the filter", () => {
    for (const filter of [{}, { category: "math" }, { query: "nothing matches this" }]) {
      const page = listTools(catalogue(), filter);
      expect(page.categories).toEqual(["math", "system"]);
      expect(page.tags).toEqual(["Net", "calc", "fast", "os"]);
    }
  });

  it("pages through every tool exactly once, in name order", () => {
    const visible = manyTools(23);
    const pages = allPages(visible, { pageSize: 5 });
    expect(pages.map((p) => p.tools.length)).toEqual([5, 5, 5, 5, 3]);
    for (const page of pages) expect(page.totalSize).toBe(23);
    const listed = pages.flatMap((p) => p.tools.map((t) => t.name));
    expect(listed).toEqual(visible.map((t) => t.name));
    expect(new Set(listed).size).toBe(23);
    expect(listed[0]).toBe("t000");
    expect(listed[22]).toBe("t022");
  });

  it("pages through a filtered listing with the same filters", () => {
    const registry = createToolRegistry();
    for (let i = 0; i < 12; i++) {
      registry.register(tool({ name: `tool${String(i).padStart(2, "0")}`, category: i % 2 === 0 ? "even" : "odd" }));
    }
    const pages = allPages(registry.list(), { category: "even", pageSize: 4 });
    expect(pages.map((p) => p.tools.length)).toEqual([4, 2]);
    expect(pages.flatMap((p) => p.tools.map((t) => t.name))).toEqual(["tool00", "tool02", "tool04", "tool06", "tool08", "tool10"]);
  });

  it("uses a page size of 50 by default and caps it at 500", () => {
    const visible = manyTools(520);
    const first = listTools(visible, {});
    expect(first.tools).toHaveLength(50);
    expect(listTools(visible, { pageSize: 0 }).tools).toHaveLength(50);
    const big = listTools(visible, { pageSize: 10_000 });
    expect(big.tools).toHaveLength(500);
    const rest = listTools(visible, { pageSize: 10_000, pageToken: big.nextPageToken });
    expect(rest.tools).toHaveLength(20);
    expect(rest.nextPageToken).toBe("");
  });

  it("gives no next page token when everything fits on one page", () => {
    const page = listTools(manyTools(5), { pageSize: 5 });
    expect(page.tools).toHaveLength(5);
    expect(page.nextPageToken).toBe("");
  });

  it("refuses a page token reused with different filters", () => {
    const visible = catalogue();
    const first = listTools(visible, { pageSize: 2 });
    expect(first.nextPageToken).not.toBe("");
    for (const other of [
      { category: "system" },
      { tag: "os" },
      { query: "a" },
      { includeDeprecated: true },
      { excludeExperimental: true },
    ] as ToolListFilter[]) {
      const err = connectThrow(() => listTools(visible, { ...other, pageSize: 2, pageToken: first.nextPageToken }));
      expect(err.code, JSON.stringify(other)).toBe(Code.InvalidArgument);
      expect(err.rawMessage).toMatch(/page_token/);
    }
  });

  it("accepts a page token with the same filters and another page size", () => {
    const visible = manyTools(10);
    const first = listTools(visible, { pageSize: 3 });
    expect(listTools(visible, { pageSize: 4, pageToken: first.nextPageToken }).tools.map((t) => t.name)).toEqual([
      "t003",
      "t004",
      "t005",
      "t006",
    ]);
  });

  it("refuses a page token that is not one", () => {
    const visible = manyTools(3);
    for (const token of ["garbage", "LTE6YWJj", Buffer.from("-1:whatever").toString("base64url")]) {
      expect(connectThrow(() => listTools(visible, { pageToken: token })).code).toBe(Code.InvalidArgument);
    }
  });
});
