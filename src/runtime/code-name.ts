import { Code } from "@connectrpc/connect";

/** The snake_case name of a Connect code ("permission_denied"), as Connect JSON, events, stats and logs use. */
export function codeName(code: Code): string {
  return (Code[code] ?? "unknown").replace(/[A-Z]/g, (c, i: number) => (i === 0 ? c.toLowerCase() : `_${c.toLowerCase()}`));
}
