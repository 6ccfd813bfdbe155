/**
 * A bounded push queue read as an async iterable: bridges the pipeline's callbacks (progress,
 * partial content, logs) to a server-streaming handler, which pulls as fast as the client reads.
 */
export interface StreamQueue<T> extends AsyncIterable<T> {
  /**
   * Adds an item. A droppable item is discarded when the queue is full (progress can be lossy);
   * otherwise a full queue returns false and the producer must stop.
   */
  push(item: T, droppable?: boolean): boolean;
  /** Ends the stream after the queued items and `last`, which is queued whatever the capacity. */
  close(last?: T): void;
  /** Ends the stream with an error after the queued items. */
  fail(error: unknown): void;
}

/** Creates a {@link StreamQueue} holding at most `capacity` items. */
export function createStreamQueue<T>(capacity: number): StreamQueue<T> {
  const items: T[] = [];
  let done = false;
  let error: { value: unknown } | undefined;
  let wake: (() => void) | undefined;

  const notify = () => {
    const w = wake;
    wake = undefined;
    w?.();
  };

  return {
    push(item, droppable = false) {
      if (done) return false;
      if (items.length >= capacity) return droppable;
      items.push(item);
      notify();
      return true;
    },
    close(last) {
      if (done) return;
      if (last !== undefined) items.push(last);
      done = true;
      notify();
    },
    fail(err) {
      error = { value: err };
      done = true;
      notify();
    },
    async *[Symbol.asyncIterator]() {
      for (;;) {
        const item = items.shift();
        if (item !== undefined) {
          yield item;
          continue;
        }
        if (done) {
          if (error !== undefined) throw error.value;
          return;
        }
        await new Promise<void>((resolve) => (wake = resolve));
      }
    },
  };
}
