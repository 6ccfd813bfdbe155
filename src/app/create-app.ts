import type { Logger } from "pino";
import type { ToolwireConfig } from "../../gen/schema/config.js";
import { validateConfig } from "../config/load-config.js";
import { resolveServerSettings, type ServerSettings } from "../config/server-settings.js";
import { createLogger } from "../logging/create-logger.js";
import type { AnyToolDefinition } from "../registry/define-tool.js";
import { createPluginManager, type PluginManager, type PluginReport } from "../registry/plugin-manager.js";
import { createToolRegistry } from "../registry/tool-registry.js";
import type { ClusterBackend } from "../server/cluster-view.js";
import { createToolwireServer, type ToolwireServer } from "../server/create-server.js";
import type { ServerExtensionFactory } from "../server/server-extension.js";
import { createBuiltinTools } from "../tools/index.js";
import { appSurfaces } from "./app-surfaces.js";

/** A value whose arrays and objects, however deep, are read-only: what an app's config may be. */
export type DeepReadonly<T> = T extends (infer E)[]
  ? readonly DeepReadonly<E>[]
  : T extends object
    ? { readonly [K in keyof T]: DeepReadonly<T[K]> }
    : T;

/** The config of an app: the config file's settings (`schemas/config.schema.json`), as an object. */
export type ToolwireAppConfig = DeepReadonly<ToolwireConfig>;

/** What only code can give an app, beside its config. */
export interface ToolwireAppExtras {
  /** Tools served beside the built-in ones and the plugins (values made with `defineTool`). */
  readonly tools?: readonly AnyToolDefinition[];
  /** The logger; default: JSON lines on stdout at the config's level (`logging.level`, default info). */
  readonly logger?: Logger;
  /** Directory that relative paths of the config (plugin directories, key and secret files) start from; default the current directory. */
  readonly baseDir?: string;
  /** Environment that `{ "env": … }` secrets are read from; default `process.env`. */
  readonly env?: NodeJS.ProcessEnv;
  /** More surfaces on the same port (Connect services, plain HTTP routes). */
  readonly extensions?: readonly ServerExtensionFactory[];
  /** Where the config came from, for error messages (default "the app config"). */
  readonly configSource?: string;
}

/** A Toolwire app: every surface on one port, the built-in tools, plugins and Redis when configured. */
export interface ToolwireApp extends ToolwireServer {
  /** The validated config the app was built from. */
  readonly config: ToolwireConfig;
  /** The app's logger. */
  readonly logger: Logger;
  /** The plugin directories' tools: reload them, or watch them for changes. */
  readonly plugins: PluginManager;
  /** What loading the plugins at start found (failures are logged and skipped). */
  readonly pluginReport: PluginReport;
}

/**
 * Builds the app `toolwire serve` and `toolwire mcp` run, from one config object shaped like the
 * config file (`schemas/config.schema.json`): Connect, gRPC and gRPC-Web, `/mcp`, `/health`,
 * `/metrics`, `/events`, gRPC health and reflection, RegistryService, the built-in tools, the
 * plugins of `pluginDirs` (loaded before this resolves) and Redis when configured. Throws a
 * ConfigError naming every problem of the config. Call `listen()` to serve, `close()` to stop.
 */
export async function createToolwireApp(config: ToolwireAppConfig = {}, extras: ToolwireAppExtras = {}): Promise<ToolwireApp> {
  const valid = validateConfig(config, extras.configSource ?? "the app config");
  const logger = extras.logger ?? createLogger({ level: valid.logging?.level ?? "info", pretty: valid.logging?.pretty ?? false });
  const settings = await resolveServerSettings(valid, { baseDir: extras.baseDir ?? process.cwd(), env: extras.env ?? process.env, logger });
  try {
    const cluster = await clusterOf(settings);
    const registry = createToolRegistry();
    const plugins = createPluginManager({ registry, dirs: settings.pluginDirs, logger });
    const server = createToolwireServer({
      ...serverOptionsOf(settings),
      logger,
      registry,
      tools: [...createBuiltinTools({ builtins: settings.builtins, executeCommand: settings.executeCommand }), ...(extras.tools ?? [])],
      extensions: [...appSurfaces({ plugins, settings, cluster }), ...(extras.extensions ?? [])],
    });
    // The plugin manager logs each failure; a broken plugin is skipped, everything else is served.
    const pluginReport = await plugins.reload();
    let closing: Promise<void> | undefined;
    return {
      registry: server.registry,
      pipeline: server.pipeline,
      serverId: server.serverId,
      config: valid,
      logger,
      plugins,
      pluginReport,
      get url() {
        return server.url;
      },
      listen: () => server.listen(),
      close(graceMs?: number) {
        closing ??= (async () => {
          plugins.close();
          await server.close(graceMs);
          await settings.close();
        })();
        return closing;
      },
    };
  } catch (err) {
    await settings.close();
    throw err;
  }
}

/** The shared Redis backend of a cluster, when Redis is configured. */
async function clusterOf(settings: ServerSettings): Promise<ClusterBackend | undefined> {
  if (settings.redis === undefined || settings.cluster === undefined) return undefined;
  const { createRedisCluster } = await import("../cluster/index.js");
  const { cluster } = settings;
  return createRedisCluster({
    redis: settings.redis,
    keyPrefix: cluster.keyPrefix,
    heartbeatMs: cluster.heartbeatMs,
    eventStreamLength: cluster.eventStreamLength,
    eventMaxAgeMs: cluster.eventMaxAgeMs,
    eventBufferSize: cluster.eventBufferSize,
    rateLimitFallback: { local: "per-instance budgets", "fail-open": "no limit (fail-open)", "fail-closed": "refusals (fail-closed)" }[cluster.rateLimitFallback],
  });
}

/** The options of the bare server that resolved settings give. */
function serverOptionsOf(settings: ServerSettings) {
  return definedOnly({
    host: settings.host,
    port: settings.port,
    tls: settings.tls,
    shutdownGraceMs: settings.shutdownGraceMs,
    defaultTimeoutMs: settings.defaultTimeoutMs,
    allowedHosts: settings.allowedHosts,
    corsOrigins: settings.corsOrigins,
    trustedProxies: settings.trustedProxies,
    ...settings.limits,
    authenticate: settings.authenticate,
    revealHiddenTools: settings.revealHiddenTools,
    rateLimiter: settings.rateLimiter,
    requestLimits: settings.requestLimits,
  });
}

function definedOnly<T extends Record<string, unknown>>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}
