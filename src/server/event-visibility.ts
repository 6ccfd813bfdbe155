import type { EventBus, EventSubscription, SubscribeOptions } from "../events/event-bus.js";
import type { EventVisibility, ToolwireEvent } from "../events/event.js";
import type { RegisteredTool, ToolRegistry } from "../registry/tool-registry.js";
import { mayList } from "../runtime/tool-listing.js";
import type { Principal } from "../security/principal.js";
import { securityLevelRank } from "../security/security-level.js";

// One per tool version, shared by all its events.
const visibilities = new WeakMap<RegisteredTool, EventVisibility>();

/** What events of `tool` need of their reader: what listing it needs. */
export function toolVisibility(tool: RegisteredTool): EventVisibility {
  let visibility = visibilities.get(tool);
  if (visibility === undefined) {
    visibility = { securityLevel: tool.securityLevel, category: tool.manifest.category };
    visibilities.set(tool, visibility);
  }
  return visibility;
}

/** Events of names no tool is registered under hide nothing: every watcher may read them. */
const unregisteredName: EventVisibility = { securityLevel: "public", category: undefined };

/**
 * What events of a call need of their reader when the call never resolved its tool (refused
 * before or by authorization): the strictest of the name's registered versions, since the call
 * may have asked for any of them.
 */
export function nameVisibility(registry: ToolRegistry, name: string): EventVisibility {
  let strictest: RegisteredTool | undefined;
  for (const tool of registry.versions(name)) {
    if (strictest === undefined || securityLevelRank(tool.securityLevel) > securityLevelRank(strictest.securityLevel)) strictest = tool;
  }
  return strictest === undefined ? unregisteredName : toolVisibility(strictest);
}

/** What a tool event stored without a visibility (another writer's) needs: admin. */
const unknownVisibility: EventVisibility = { securityLevel: "admin", category: undefined };

/**
 * Whether `reader` may read `event`: events of no tool (server status) are for every watcher;
 * a tool's events only for readers who may list that tool, by the rule of ListTools
 * ({@link mayList}) applied to the tool as it was when the event was made.
 */
export function mayReadEvent(reader: Principal, event: ToolwireEvent): boolean {
  if (event.toolName === "") return true;
  const visibility = event.visibility ?? unknownVisibility;
  return mayList(reader, { name: event.toolName, securityLevel: visibility.securityLevel, category: visibility.category });
}

/**
 * Subscribes `reader` to the events it may read (see {@link mayReadEvent}), replayed and live.
 * Every event stream (WatchEvents over each protocol, `GET /events`) subscribes through here, so
 * none can show a watcher what its listings hide.
 */
export function subscribeReader(bus: EventBus, reader: Principal, options: SubscribeOptions): Promise<EventSubscription> {
  return bus.subscribe({ ...options, visible: (event) => mayReadEvent(reader, event) });
}
