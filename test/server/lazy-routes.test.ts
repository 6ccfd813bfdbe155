import { describe, expect, it } from "vitest";
import { createLazyRoutes } from "../../src/server/lazy-routes.js";
import type { PlainRequest, PlainServerResponse, ServerContext, ServerExtension } from "../../src/server/server-extension.js";

/** A surface that records what happens to it, and how often its module was "imported". */
function recordingSurface() {
  const seen: string[] = [];
  let loads = 0;
  const extension: ServerExtension = {
    httpRoutes: { "/x": () => void seen.push("request") },
    listening: (address) => void seen.push(`listening ${address.url}`),
    shutdown: () => void seen.push("shutdown"),
    close: () => void seen.push("close"),
  };
  const load = async () => {
    loads++;
    return () => extension;
  };
  return { seen, load, loads: () => loads };
}

const ctx = {} as ServerContext;
const request = {} as PlainRequest;
const response = {} as PlainServerResponse;
const address = { url: "http://127.0.0.1:1", host: "127.0.0.1", port: 1 };

describe("createLazyRoutes", () => {
  it("imports the surface on its first request only, and tells it the address it missed", async () => {
    const surface = recordingSurface();
    const lazy = createLazyRoutes(["/x"], surface.load)(ctx);
    lazy.listening?.(address);
    expect(surface.loads()).toBe(0);
    await Promise.all([lazy.httpRoutes?.["/x"]?.(request, response), lazy.httpRoutes?.["/x"]?.(request, response)]);
    expect(surface.loads()).toBe(1);
    expect(surface.seen).toEqual(["listening http://127.0.0.1:1", "request", "request"]);
    await lazy.close?.();
    expect(surface.seen.at(-1)).toBe("close");
  });

  it("shuts a surface loaded after shutdown began down at once, and closes nothing it never loaded", async () => {
    const never = recordingSurface();
    await createLazyRoutes(["/x"], never.load)(ctx).close?.();
    expect(never.loads()).toBe(0);

    const late = recordingSurface();
    const lazy = createLazyRoutes(["/x"], late.load)(ctx);
    lazy.shutdown?.();
    await lazy.httpRoutes?.["/x"]?.(request, response);
    expect(late.seen).toEqual(["shutdown", "request"]);
  });

  it("fails a request to a path the loaded surface does not serve", async () => {
    const surface = recordingSurface();
    const lazy = createLazyRoutes(["/y"], surface.load)(ctx);
    await expect(lazy.httpRoutes?.["/y"]?.(request, response)).rejects.toThrow("the lazily loaded surface does not serve /y");
  });
});
