import { Code, ConnectError, type HandlerContext, type ServiceImpl } from "@connectrpc/connect";
import { RegistryService } from "../../gen/proto/toolwire/v1/registry_service_pb.js";
import type { PluginManager } from "../registry/plugin-manager.js";
import { levelRefusal } from "../security/require-level.js";
import { callerFromContext } from "./caller-info.js";
import type { ServerContext, ServerExtensionFactory } from "./server-extension.js";

/** Options of {@link createRegistryAdmin}. */
export interface RegistryAdminOptions {
  /** The plugin directories ReloadPlugins reloads; without them it answers failed_precondition. */
  readonly plugins?: PluginManager | undefined;
}

/** Implements toolwire.v1.RegistryService: admin-only changes to what the server serves. */
export function createRegistryService(context: ServerContext, options: RegistryAdminOptions): ServiceImpl<typeof RegistryService> {
  const { registry, pipeline, logger } = context;

  async function admin(ctx: HandlerContext, what: string): Promise<string> {
    const principal = await pipeline.authenticate(callerFromContext(ctx));
    const refusal = levelRefusal(principal, "admin", what);
    if (refusal !== undefined) {
      logger.warn({ callerId: principal.id, action: what, code: Code[refusal.code], reason: refusal.rawMessage }, "admin call denied");
      throw refusal;
    }
    return principal.id;
  }

  return {
    async reloadPlugins(_req, ctx) {
      const callerId = await admin(ctx, "reloading plugins");
      if (options.plugins === undefined || options.plugins.dirs.length === 0) {
        throw new ConnectError("this server has no plugin directories (pluginDirs in the config, or --plugins)", Code.FailedPrecondition);
      }
      const report = await options.plugins.reload();
      logger.info({ callerId, loaded: report.loaded.length, removed: report.removed.length, failures: report.failures.length }, "plugins reloaded by admin");
      return { loaded: [...report.loaded], removed: [...report.removed], failures: report.failures.map((f) => ({ ...f })) };
    },

    async unregisterTool(req, ctx) {
      const callerId = await admin(ctx, "unregistering tools");
      const versions = registry.versions(req.name).filter((t) => req.version === "" || t.version === req.version).map((t) => t.version);
      if (versions.length === 0) {
        throw new ConnectError(
          `tool "${req.name}"${req.version === "" ? "" : ` version ${req.version}`} is not registered`,
          Code.NotFound,
        );
      }
      for (const version of versions) registry.unregister(req.name, version);
      logger.info({ callerId, tool: req.name, versions }, "tool unregistered by admin");
      return { removedVersions: versions };
    },

    async setToolDeprecated(req, ctx) {
      const callerId = await admin(ctx, "deprecating tools");
      if (req.version === "") throw new ConnectError("give the exact version to deprecate", Code.InvalidArgument);
      registry.setDeprecated(req.name, req.version, req.deprecated);
      logger.info({ callerId, tool: req.name, version: req.version, deprecated: req.deprecated }, "tool deprecation changed by admin");
      return { defaultVersion: registry.resolve(req.name).version };
    },
  };
}

/** The RegistryService surface, as a server extension. */
export function createRegistryAdmin(options: RegistryAdminOptions = {}): ServerExtensionFactory {
  return (context) => ({
    services: [RegistryService],
    routes: (router) => router.service(RegistryService, createRegistryService(context, options)),
    close: () => options.plugins?.close(),
  });
}
