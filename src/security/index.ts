export { securityLevels, securityLevelRank, isSecurityLevelName, type SecurityLevelName } from "./security-level.js";
export { anonymousPrincipal, type Principal } from "./principal.js";
export { checkAccess, type AuthorizationTarget } from "./authorize.js";
export {
  createToolRateLimiter,
  type ToolRateLimiter,
  type RateLimitRule,
  type RateLimiterStoreOptions,
} from "./rate-limit.js";
export { createApiKeyVerifier, hashApiKey, type ApiKeyEntry } from "./api-keys.js";
export { createJwtVerifier, type JwtOptions, type JwtVerifier, type JwtAlgorithm } from "./jwt.js";
export { createAuthenticator, type AuthenticatorOptions } from "./authenticator.js";
export { clientAddressKey } from "./client-address.js";
export { createClientAddressResolver, createTrustedProxyMatcher, type ClientAddressResolver, type TrustedProxyMatcher } from "./forwarded-for.js";
export { createOriginPolicy, isLoopbackHost, type OriginPolicy, type OriginPolicyOptions, type OriginVerdict } from "./origin-policy.js";
