import { ConfigError } from "./config-error.js";

/** Where and as whom to connect to Redis, as a `redis://` or `rediss://` URL says it. */
export interface RedisEndpoint {
  /** Host name or IP address (IPv6 without brackets). */
  readonly host: string;
  /** TCP port (default 6379). */
  readonly port: number;
  /** ACL user, when the URL names one. */
  readonly username: string | undefined;
  /** Password, when the URL holds one. */
  readonly password: string | undefined;
  /** Database number, when the URL names one. */
  readonly db: number | undefined;
  /** IP family (4 or 6), when `?family=` asks for one. */
  readonly family: number | undefined;
  /** Whether the scheme is `rediss:` (TLS). */
  readonly tls: boolean;
}

// What ioredis itself reads from a URL's query; anything else would be silently ignored.
const queryKeys = new Set(["username", "password", "db", "family"]);

/**
 * Parses a Redis URL with the WHATWG parser. ioredis would take the string to the legacy
 * `url.parse`, which falls back to 127.0.0.1:6379 on what it cannot read and prints the whole
 * URL, password included, in a DEP0170 warning: so the string never reaches ioredis, and a URL
 * that cannot be read is refused with a {@link ConfigError} that never repeats it. `source` and
 * `pointer` name where the URL came from.
 */
export function parseRedisUrl(url: string, source: string, pointer: string): RedisEndpoint {
  const refuse = (message: string): never => {
    throw new ConfigError(source, [{ pointer, keyword: "format", message }]);
  };
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    // Not even the scheme is safe to show: the text may be a bare password.
    return refuse(
      "is not a valid URL (expected redis://[user[:password]@]host[:port][/db]; percent-encode reserved characters such as / # ? @ in the password)",
    );
  }
  if (parsed.protocol !== "redis:" && parsed.protocol !== "rediss:") {
    return refuse(`must be a redis:// or rediss:// URL, not ${parsed.protocol}`);
  }
  if (parsed.hostname === "") refuse("names no host (expected redis://[user[:password]@]host[:port][/db])");
  const query = parsed.searchParams;
  for (const key of query.keys()) {
    if (!queryKeys.has(key)) refuse(`has the query parameter "${key}"; only ${[...queryKeys].join(", ")} are understood`);
  }
  const dbText = parsed.pathname.length > 1 ? parsed.pathname.slice(1) : (query.get("db") ?? undefined);
  if (dbText !== undefined && !/^\d{1,5}$/.test(dbText)) refuse("names a database that is not a number (expected /0, /1, …)");
  const familyText = query.get("family") ?? undefined;
  if (familyText !== undefined && familyText !== "4" && familyText !== "6") refuse('has family other than 4 or 6');
  return {
    host: parsed.hostname.replace(/^\[(.*)\]$/, "$1"),
    port: parsed.port === "" ? 6379 : Number(parsed.port),
    username: parsed.username !== "" ? decode(parsed.username, refuse) : (query.get("username") ?? undefined),
    password: parsed.password !== "" ? decode(parsed.password, refuse) : (query.get("password") ?? undefined),
    db: dbText === undefined ? undefined : Number(dbText),
    family: familyText === undefined ? undefined : Number(familyText),
    tls: parsed.protocol === "rediss:",
  };
}

/**
 * A Redis URL fit for messages: scheme, user, host, port and database only. The password and
 * the query are dropped, because ioredis also reads credentials from `?password=`.
 */
export function redactRedisUrl(url: string): string {
  try {
    const parsed = new URL(url);
    const user = parsed.username === "" && parsed.password === "" ? "" : `${parsed.username}${parsed.password === "" ? "" : ":***"}@`;
    return `${parsed.protocol}//${user}${parsed.host}${parsed.pathname === "/" ? "" : parsed.pathname}`;
  } catch {
    return "(unparsable Redis URL)";
  }
}

function decode(text: string, refuse: (message: string) => never): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return refuse("has a user or password with a broken %-escape");
  }
}
