import { Code, ConnectError } from "@connectrpc/connect";
import type { Redis } from "ioredis";
import { stampEvent, type EventDraft, type ToolwireEvent } from "./event.js";
import type { EventPage, EventStore } from "./event-store.js";

/** Options of {@link createRedisEventStore}. */
export interface RedisEventStoreOptions {
  /** The shared Redis client; the store opens one more connection (a duplicate) for tailing. */
  readonly redis: Redis;
  /** Server id stamped on the events this instance appends. */
  readonly serverId: string;
  /** Prefix of the store's keys (default "toolwire:"). */
  readonly keyPrefix?: string | undefined;
  /** About how many events the stream keeps for replay (XADD MAXLEN ~; default 10 000). */
  readonly maxLength?: number | undefined;
  /**
   * How long the stream keeps an event for replay, in ms, counted on Redis's clock from when the
   * event reached Redis (default: no age limit). Older events are trimmed on append and before
   * each replay read, up to 1 % (at most 1 s) late; resuming before them answers out_of_range.
   */
  readonly maxAgeMs?: number | undefined;
  /**
   * Most events held locally while Redis is away (default 10 000). Beyond it the oldest are
   * dropped, and their sequence numbers are skipped so that watchers see out_of_range, not a
   * silent gap.
   */
  readonly bufferSize?: number | undefined;
  /**
   * Most bytes (of the events' JSON) held locally while Redis is away (default 64 MiB); beyond
   * it the oldest are dropped as beyond `bufferSize`, but the newest event is always kept.
   */
  readonly bufferBytes?: number | undefined;
  /**
   * How long one XREAD blocks, in ms (default 2 000); also bounds how long close() waits, and how
   * long a watch waits for the store to join the stream after start.
   */
  readonly blockMs?: number | undefined;
  /** Told about Redis failures (the store itself never throws from append). */
  readonly onError?: ((error: Error) => void) | undefined;
  /** Clock for event times, epoch ms (default Date.now). */
  readonly now?: (() => number) | undefined;
}

/** An event store shared by every instance through Redis, with what it knows about its local state. */
export interface RedisEventStore extends EventStore {
  /** Events appended here and waiting for Redis (while it is away). */
  readonly buffered: number;
  /** Events dropped because the local buffer was full while Redis was away, since start. */
  readonly lost: number;
  /**
   * Calls `listener` when the live tail skips sequences (trimmed before this instance read them,
   * or dropped from another instance's full buffer); returns the unsubscribe function.
   */
  listenGaps(listener: (afterSequence: number, oldest: number, newest: number) => void): () => void;
}

// Age trimming, shared by the append and the trim scripts. Stream ids are sequence numbers, not
// times, so an entry's age comes from its 't' field (Redis's clock when it was added: one clock
// for every instance, and non-decreasing along the stream), or for entries written without one
// (before an age was configured) from the event's own time. The head is checked on every call,
// which is O(1); the stream is scanned and trimmed only once the head is more than the slack
// past the age, so a busy stream is trimmed in batches rather than one entry per append. The
// scan stops at the first entry young enough and is bounded per call, so a script never holds
// Redis for long; what is left is trimmed by the next call. Ids are all "<sequence>-0", so
// "<sequence>-1" as MINID also removes the entry "<sequence>-0" (Lua numbers cannot add 1 to a
// 16-digit sequence exactly).
const trimFunction = `
local function entryTime(entry)
  local fields = entry[2]
  if fields[3] == 't' then return tonumber(fields[4]) end
  local ok, decoded = pcall(cjson.decode, fields[2])
  if ok and type(decoded) == 'table' and type(decoded.time) == 'number' then return decoded.time end
  return 0
end
local function trimByAge(stream, nowMs, maxAge, slack)
  local cutoff = nowMs - maxAge
  local head = redis.call('XRANGE', stream, '-', '+', 'COUNT', 1)[1]
  if head == nil or entryTime(head) >= cutoff - slack then return end
  local from = '-'
  local last = nil
  for _ = 1, 100 do
    local batch = redis.call('XRANGE', stream, from, '+', 'COUNT', 100)
    for _, entry in ipairs(batch) do
      if entryTime(entry) >= cutoff then
        redis.call('XTRIM', stream, 'MINID', entry[1])
        return
      end
      last = entry[1]
    end
    if #batch < 100 then break end
    from = '(' .. last
  end
  if last ~= nil then redis.call('XTRIM', stream, 'MINID', (string.gsub(last, '%-0$', '-1'))) end
end
local function redisNowMs()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
`;

// Numbers the events and adds them in one atomic step, so the stream order is the sequence order
// across every instance. The counter starts at the clock in microseconds (as the in-memory store
// does), so a flushed Redis never reuses numbers a client may still resume from. Sequences are
// read back with GET: Lua numbers would print large integers in exponent notation. ARGV: maximum
// length, counter start, sequences to skip, maximum age in ms (0: none), trim slack in ms, then
// the events. The 't' field is written only with an age limit, so the stream costs nothing more
// without one.
const appendScript = `${trimFunction}
if redis.call('EXISTS', KEYS[2]) == 0 then redis.call('SET', KEYS[2], ARGV[2]) end
if tonumber(ARGV[3]) > 0 then redis.call('INCRBY', KEYS[2], ARGV[3]) end
local seq = redis.call('GET', KEYS[2])
local maxAge = tonumber(ARGV[4])
local nowMs = 0
if maxAge > 0 then nowMs = redisNowMs() end
local t = string.format('%d', nowMs)
for i = 6, #ARGV do
  redis.call('INCR', KEYS[2])
  seq = redis.call('GET', KEYS[2])
  if maxAge > 0 then
    redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[1], seq .. '-0', 'e', ARGV[i], 't', t)
  else
    redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[1], seq .. '-0', 'e', ARGV[i])
  end
end
if maxAge > 0 then trimByAge(KEYS[1], nowMs, maxAge, tonumber(ARGV[5])) end
return seq
`;

// Trims by age without appending, before a replay read: a stream nobody appends to must not
// replay events older than the age. ARGV: maximum age in ms, trim slack in ms.
const trimScript = `${trimFunction}
trimByAge(KEYS[1], redisNowMs(), tonumber(ARGV[1]), tonumber(ARGV[2]))
return 0
`;

/** Events sent to Redis per script call while flushing. */
const flushBatch = 200;

type StoredFields = Omit<ToolwireEvent, "sequence">;
type StreamEntry = [id: string, fields: string[]];

function sequenceOf(id: string): number {
  return Number(id.slice(0, id.indexOf("-")));
}

function decode(entry: StreamEntry): ToolwireEvent | undefined {
  const [id, fields] = entry;
  const json = fields[1];
  if (json === undefined) return undefined;
  const stored = JSON.parse(json) as StoredFields;
  return stampEvent(stored, sequenceOf(id), stored.time, stored.serverId);
}

function unreachable(err: unknown): ConnectError {
  return new ConnectError(
    `the shared event store (Redis) cannot be read now (${(err as Error).message}); live events still arrive once it is back — watch again shortly`,
    Code.Unavailable,
  );
}

/**
 * Creates the Redis Streams event store: one stream for the whole cluster, numbered by a
 * counter in the same atomic script, trimmed to about `maxLength` events and, when `maxAgeMs`
 * is set, to the events younger than it. New events reach
 * listeners through a blocking XREAD on a dedicated connection, so every instance delivers every
 * instance's events in the same order. While Redis is away, appends wait in a bounded local
 * buffer and are sent when it returns.
 */
export function createRedisEventStore(options: RedisEventStoreOptions): RedisEventStore {
  const { redis, serverId } = options;
  const prefix = options.keyPrefix ?? "toolwire:";
  const streamKey = `${prefix}events`;
  const counterKey = `${prefix}events:seq`;
  const maxLength = options.maxLength ?? 10_000;
  const maxAgeMs = options.maxAgeMs ?? 0;
  // How far past the age the head may get before a scan: 1 % of the age, at most 1 s.
  const trimSlackMs = Math.min(Math.floor(maxAgeMs / 100), 1_000);
  const bufferSize = options.bufferSize ?? 10_000;
  const bufferBytes = options.bufferBytes ?? 64 * 1024 * 1024;
  const blockMs = options.blockMs ?? 2_000;
  const now = options.now ?? Date.now;
  const report = (err: unknown) => options.onError?.(err instanceof Error ? err : new Error(String(err)));
  if (!Number.isInteger(maxLength) || maxLength < 1) throw new RangeError(`event stream length must be a whole number ≥ 1, got ${maxLength}`);
  if (!Number.isInteger(bufferSize) || bufferSize < 1) throw new RangeError(`event buffer size must be a whole number ≥ 1, got ${bufferSize}`);
  if (!Number.isSafeInteger(bufferBytes) || bufferBytes < 1) throw new RangeError(`event buffer byte bound must be a whole number ≥ 1, got ${bufferBytes}`);
  if (options.maxAgeMs !== undefined && (!Number.isInteger(maxAgeMs) || maxAgeMs < 1)) throw new RangeError(`event maximum age must be a whole number of ms ≥ 1, got ${maxAgeMs}`);

  // A blocking XREAD holds its connection, so tailing gets its own; it retries forever and keeps
  // no command timeout, since blocking is its job.
  const tail = redis.duplicate({ enableOfflineQueue: true, maxRetriesPerRequest: null, commandTimeout: undefined, lazyConnect: true });
  tail.on("error", () => {
    // Reported through the shared client's error handler already; the tail reconnects by itself.
  });

  let listeners: readonly ((event: ToolwireEvent) => void)[] = [];
  let gapListeners: readonly ((after: number, oldest: number, newest: number) => void)[] = [];
  let pending: string[] = [];
  // Length of the JSON texts in `pending`, together.
  let pendingBytes = 0;
  let lostSinceFlush = 0;
  let lost = 0;
  let newest = 0;
  let closed = false;
  let flushing = false;
  // A command queued on the tail while Redis is away never settles once the tail is disconnected,
  // so the loops wait on it and on this, which close() resolves.
  let markClosed!: () => void;
  const closing = new Promise<undefined>((resolve) => (markClosed = () => resolve(undefined)));

  // Set once init has read the counter: only from then on does the tail deliver every event after
  // what a read returns.
  let joined = false;
  // True until the first event is seen on a store that had no counter yet: the script starts
  // the counter from its own clock reading, which is not a gap.
  let fresh = false;
  const initialised = init();
  const tailing = initialised.then(tailLoop);
  tailing.catch(report);

  /** Learns where the stream is (retrying until Redis answers or the store closes). */
  async function init(): Promise<void> {
    await tail.connect().catch(() => undefined);
    while (!closed) {
      try {
        const counter = await Promise.race([tail.get(counterKey), closing]);
        if (closed) return;
        fresh = counter === null || counter === undefined;
        newest = counter === null || counter === undefined ? 0 : Number(counter);
        joined = true;
        return;
      } catch {
        await delay(200);
      }
    }
  }

  async function tailLoop(): Promise<void> {
    while (!closed) {
      let reply: [string, StreamEntry[]][] | null;
      try {
        reply = (await Promise.race([tail.xread("BLOCK", blockMs, "STREAMS", streamKey, `${newest}-0`), closing])) as [string, StreamEntry[]][] | null;
        if (closed) return;
      } catch (err) {
        if (closed) return;
        report(err);
        await delay(200);
        continue;
      }
      for (const [, entries] of reply ?? []) {
        for (const entry of entries) {
          const sequence = sequenceOf(entry[0]);
          if (sequence <= newest) continue;
          if (sequence > newest + 1 && !fresh) {
            for (const listener of gapListeners) listener(newest, sequence, sequence);
          }
          newest = sequence;
          fresh = false;
          const event = decode(entry);
          if (event !== undefined) for (const listener of listeners) listener(event);
        }
      }
    }
  }

  /** Sends buffered events while Redis takes them; one flush at a time keeps them in order. */
  async function flush(): Promise<void> {
    if (flushing) return;
    flushing = true;
    try {
      await initialised;
      while (!closed && pending.length > 0) {
        if (redis.status !== "ready") {
          await onceReady();
          continue;
        }
        const batch = pending.slice(0, flushBatch);
        const skipped = lostSinceFlush;
        try {
          await redis.eval(
            appendScript,
            2,
            streamKey,
            counterKey,
            String(maxLength),
            String(now() * 1000),
            String(skipped),
            String(maxAgeMs),
            String(trimSlackMs),
            ...batch,
          );
        } catch (err) {
          report(err);
          await delay(100);
          continue;
        }
        lostSinceFlush -= skipped;
        pendingBytes -= textLength(batch);
        pending = pending.slice(batch.length);
      }
    } finally {
      flushing = false;
    }
  }

  /**
   * Waits until the tail has its starting point (at most `blockMs`, then unavailable). Without
   * it, a read made before the tail starts could miss events appended in between: the tail would
   * start after them and the read was made before them. While Redis is away there is nothing to
   * wait for; a read then fails by itself.
   */
  async function joinStream(): Promise<void> {
    if (joined || closed || redis.status !== "ready") return;
    let timer: NodeJS.Timeout | undefined;
    const limit = new Promise<"late">((resolve) => (timer = setTimeout(() => resolve("late"), blockMs)));
    try {
      const outcome = await Promise.race([initialised, closing, limit]);
      if (outcome === "late" && !joined) throw unreachable(new Error(`this instance has not joined the shared event stream within ${blockMs} ms`));
    } finally {
      clearTimeout(timer);
    }
  }

  function onceReady(): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearInterval(poll);
        redis.off("ready", done);
        resolve();
      };
      // Polled as well: close() must not leave a flush waiting for a "ready" that never comes.
      const poll = setInterval(() => {
        if (closed || redis.status === "ready") done();
      }, 250);
      redis.once("ready", done);
    });
  }

  return {
    append(draft: EventDraft) {
      if (closed) return;
      // Redis numbers the event when it adds it; the stored fields are all the rest.
      const { sequence: _unnumbered, ...stored } = stampEvent(draft, 0, now(), serverId);
      const json = JSON.stringify(stored);
      pending.push(json);
      pendingBytes += json.length;
      // The oldest beyond the count, then while the rest is over the byte bound: events with
      // large arguments must not grow the buffer to gigabytes either.
      let drop = 0;
      let dropBytes = 0;
      while (drop < pending.length - 1 && (pending.length - drop > bufferSize || pendingBytes - dropBytes > bufferBytes)) {
        dropBytes += (pending[drop++] as string).length;
      }
      if (drop > 0) {
        // Bounded memory while Redis is away: the oldest go, and their numbers are skipped.
        pending = pending.slice(drop);
        pendingBytes -= dropBytes;
        lostSinceFlush += drop;
        lost += drop;
      }
      void flush();
    },
    ready: joinStream,
    async read(afterSequence, limit) {
      await joinStream();
      let results: [Error | null, unknown][] | null;
      try {
        // With an age limit, trimming first in the same transaction makes a read see the stream
        // as the age leaves it, even when nothing was appended lately; the oldest entry read
        // afterwards then tells the gap exactly as after a MAXLEN trim.
        const transaction = redis.multi();
        if (maxAgeMs > 0) transaction.eval(trimScript, 1, streamKey, String(maxAgeMs), String(trimSlackMs));
        results = await transaction
          .xrange(streamKey, `(${afterSequence}-0`, "+", "COUNT", limit)
          .xrange(streamKey, "-", "+", "COUNT", 1)
          .get(counterKey)
          .exec();
      } catch (err) {
        throw unreachable(err);
      }
      if (results === null) throw unreachable(new Error("transaction aborted"));
      for (const [err] of results) if (err !== null) throw unreachable(err);
      if (maxAgeMs > 0) results = results.slice(1);
      const entries = (results[0]?.[1] ?? []) as StreamEntry[];
      const first = (results[1]?.[1] ?? []) as StreamEntry[];
      const counter = results[2]?.[1] as string | null;
      const newestSequence = Math.max(counter === null ? newest : Number(counter), newest);
      const firstEntry = first[0];
      const page: EventPage = {
        events: entries.map(decode).filter((e): e is ToolwireEvent => e !== undefined),
        oldestSequence: firstEntry === undefined ? newestSequence + 1 : sequenceOf(firstEntry[0]),
        newestSequence,
      };
      return page;
    },
    listen(listener) {
      listeners = [...listeners, listener];
      return () => {
        listeners = listeners.filter((l) => l !== listener);
      };
    },
    listenGaps(listener) {
      gapListeners = [...gapListeners, listener];
      return () => {
        gapListeners = gapListeners.filter((l) => l !== listener);
      };
    },
    get newestSequence() {
      return newest;
    },
    get buffered() {
      return pending.length;
    },
    get lost() {
      return lost;
    },
    async close() {
      // What is buffered gets one chance to reach Redis, so a graceful stop loses nothing.
      if (pending.length > 0 && redis.status === "ready") await flush().catch(() => undefined);
      closed = true;
      markClosed();
      listeners = [];
      gapListeners = [];
      tail.disconnect();
      await tailing.catch(() => undefined);
    },
  };
}

function textLength(texts: readonly string[]): number {
  let length = 0;
  for (const text of texts) length += text.length;
  return length;
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
