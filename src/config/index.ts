export { ConfigError } from "./config-error.js";
export { loadConfigFile, mergeConfigs, validateConfig } from "./load-config.js";
export { configFromEnv, configEnvironment } from "./env-config.js";
export { readSecret, readConfigFile, type SecretRef, type ResolveContext } from "./secrets.js";
export { resolveServerSettings, type ServerSettings, type ResolveSettingsContext } from "./server-settings.js";
export { parseRedisUrl, redactRedisUrl, type RedisEndpoint } from "./redis-url.js";
export type { ToolwireConfig } from "../../gen/schema/config.js";
