export {
  eventTypeNames,
  isEventTypeName,
  type EventDraft,
  type EventTypeName,
  type ServerStatusName,
  type ToolwireEvent,
} from "./event.js";
export type { EventPage, EventStore } from "./event-store.js";
export { createMemoryEventStore, type MemoryEventStoreOptions } from "./memory-event-store.js";
export { createRedisEventStore, type RedisEventStore, type RedisEventStoreOptions } from "./redis-event-store.js";
export { compileEventFilter, type EventFilter } from "./event-filter.js";
export {
  createEventBus,
  type EventBus,
  type EventBusOptions,
  type EventStreamItem,
  type EventSubscription,
  type SubscribeOptions,
} from "./event-bus.js";
export { eventsOutOfRange, eventsShuttingDown, subscriberTooSlow } from "./event-errors.js";
