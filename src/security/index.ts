export { securityLevels, securityLevelRank, isSecurityLevelName, type SecurityLevelName } from "./security-level.js";
export { anonymousPrincipal, type Principal } from "./principal.js";
export { checkAccess, type AuthorizationTarget } from "./authorize.js";
export { createToolRateLimiter, type ToolRateLimiter, type RateLimitRule } from "./rate-limit.js";
