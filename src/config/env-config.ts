import type { ToolwireConfig } from "../../gen/schema/config.js";
import { ConfigError } from "./config-error.js";

/** Environment variables `toolwire serve` reads, and the config setting each one sets. */
export const configEnvironment = {
  TOOLWIRE_HOST: "/server/host",
  TOOLWIRE_PORT: "/server/port",
  TOOLWIRE_ALLOWED_HOSTS: "/server/allowedHosts",
  TOOLWIRE_CORS_ORIGINS: "/server/corsOrigins",
  TOOLWIRE_TRUSTED_PROXIES: "/server/trustedProxies",
  TOOLWIRE_MAX_BODY_BYTES: "/limits/maxBodyBytes",
  TOOLWIRE_LOG_LEVEL: "/logging/level",
  TOOLWIRE_LOG_PRETTY: "/logging/pretty",
  TOOLWIRE_JWT_SECRET: "/auth/jwt/secret",
  TOOLWIRE_REDIS_URL: "/redis/url",
  TOOLWIRE_PLUGIN_DIRS: "/pluginDirs",
} as const;

/**
 * The settings given by environment variables, as a config to merge over the file's. Secrets
 * (TOOLWIRE_JWT_SECRET, TOOLWIRE_REDIS_URL) are referenced by name, so the value itself never
 * lands in a config object that might be logged.
 */
export function configFromEnv(env: Readonly<Record<string, string | undefined>>): ToolwireConfig {
  const config: Record<string, Record<string, unknown>> = {};
  const set = (pointer: string, value: unknown) => {
    const [, section = "", key] = pointer.split("/");
    if (key === undefined) {
      (config as Record<string, unknown>)[section] = value;
      return;
    }
    config[section] ??= {};
    (config[section] as Record<string, unknown>)[key] = value;
  };
  const list = (value: string) => value.split(",").map((v) => v.trim()).filter((v) => v.length > 0);
  for (const [name, pointer] of Object.entries(configEnvironment)) {
    const value = env[name];
    if (value === undefined || value === "") continue;
    switch (name) {
      case "TOOLWIRE_PORT":
      case "TOOLWIRE_MAX_BODY_BYTES": {
        // Number() would also take " " (as 0), "0x1f" and "1e3".
        const n = /^\s*-?\d+\s*$/.test(value) ? Number(value) : Number.NaN;
        if (!Number.isInteger(n)) {
          throw new ConfigError("environment", [{ pointer, keyword: "type", message: `${name}="${value}" must be a whole number` }]);
        }
        set(pointer, n);
        break;
      }
      case "TOOLWIRE_LOG_PRETTY":
        if (!/^(1|0|true|false|yes|no|on|off)$/i.test(value)) {
          throw new ConfigError("environment", [{ pointer, keyword: "type", message: `${name}="${value}" must be 1, true, yes or on (or 0, false, no, off)` }]);
        }
        set(pointer, /^(1|true|yes|on)$/i.test(value));
        break;
      case "TOOLWIRE_ALLOWED_HOSTS":
      case "TOOLWIRE_CORS_ORIGINS":
      case "TOOLWIRE_TRUSTED_PROXIES":
      case "TOOLWIRE_PLUGIN_DIRS":
        set(pointer, list(value));
        break;
      case "TOOLWIRE_JWT_SECRET":
        config.auth = { ...config.auth, jwt: { secret: { env: name } } };
        break;
      case "TOOLWIRE_REDIS_URL":
        set(pointer, { env: name });
        break;
      default:
        set(pointer, value);
    }
  }
  return config as ToolwireConfig;
}
