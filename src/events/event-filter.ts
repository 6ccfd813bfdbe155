import type { EventTypeName, ToolwireEvent } from "./event.js";

/** Which events a subscriber wants. Every part is optional. */
export interface EventFilter {
  /** Only these types; absent or empty means every type. */
  readonly types?: readonly EventTypeName[] | undefined;
  /** Only events of these tools; absent or empty means every tool and the non-tool events. */
  readonly tools?: readonly string[] | undefined;
}

/** Compiles a filter into a predicate that costs a set lookup or two per event. */
export function compileEventFilter(filter: EventFilter): (event: ToolwireEvent) => boolean {
  const types = filter.types !== undefined && filter.types.length > 0 ? new Set<string>(filter.types) : undefined;
  const tools = filter.tools !== undefined && filter.tools.length > 0 ? new Set(filter.tools) : undefined;
  if (types === undefined && tools === undefined) return () => true;
  return (event) => (types === undefined || types.has(event.type)) && (tools === undefined || tools.has(event.toolName));
}
