import type { PlainRequest, PlainServerResponse, ServerAddress, ServerContext, ServerExtension, ServerExtensionFactory } from "./server-extension.js";

/**
 * An extension of plain HTTP routes whose module is imported on the first request to one of
 * them: a surface that needs a large library (the MCP SDK) then costs nothing at start, nor in a
 * server nobody calls it on. `paths` must be the routes the loaded extension serves; it may not
 * add Connect services (the router is built before anything loads).
 */
export function createLazyRoutes(paths: readonly string[], load: () => Promise<ServerExtensionFactory>): ServerExtensionFactory {
  return (ctx) => lazyRoutes(ctx, paths, load);
}

function lazyRoutes(ctx: ServerContext, paths: readonly string[], load: () => Promise<ServerExtensionFactory>): ServerExtension {
  let loading: Promise<ServerExtension> | undefined;
  let loaded: ServerExtension | undefined;
  let address: ServerAddress | undefined;
  let shutDown = false;
  const extension = () =>
    (loading ??= load().then((create) => {
      loaded = create(ctx);
      if (address !== undefined) loaded.listening?.(address);
      if (shutDown) loaded.shutdown?.();
      return loaded;
    }));
  const httpRoutes = Object.fromEntries(
    paths.map((path) => [
      path,
      async (req: PlainRequest, res: PlainServerResponse) => {
        const route = (await extension()).httpRoutes?.[path];
        if (route === undefined) throw new Error(`the lazily loaded surface does not serve ${path}`);
        await route(req, res);
      },
    ]),
  );
  return {
    httpRoutes,
    degradedReason: () => loaded?.degradedReason?.(),
    listening(ready) {
      address = ready;
      loaded?.listening?.(ready);
    },
    shutdown() {
      shutDown = true;
      loaded?.shutdown?.();
    },
    async close() {
      // A load under way finishes first, so what it starts is closed too.
      if (loading !== undefined) await (await loading.catch(() => undefined))?.close?.();
    },
  };
}
