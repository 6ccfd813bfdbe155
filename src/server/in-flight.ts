/** Counts requests the server has admitted and not yet answered, for shutdown to wait on. */
export interface InFlight {
  /** Requests admitted and not yet answered. */
  readonly count: number;
  /** Counts one request in; the returned function counts it out (calling it again does nothing). */
  enter(): () => void;
  /** Resolves once no request is in flight (at once if none is). */
  idle(): Promise<void>;
}

/** Creates an in-flight counter whose {@link InFlight.idle} resolves when the count reaches zero. */
export function createInFlight(): InFlight {
  let count = 0;
  let waiters: Array<() => void> = [];
  return {
    get count() {
      return count;
    },
    enter() {
      count++;
      let left = false;
      return () => {
        if (left) return;
        left = true;
        count--;
        if (count === 0 && waiters.length > 0) {
          const ready = waiters;
          waiters = [];
          for (const resolve of ready) resolve();
        }
      };
    },
    idle() {
      return count === 0 ? Promise.resolve() : new Promise((resolve) => waiters.push(resolve));
    },
  };
}

/** Resolves when `promise` settles or after `ms`, whichever comes first; never rejects. */
export function waitAtMost(promise: Promise<unknown>, ms: number): Promise<void> {
  if (ms <= 0) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    const done = () => {
      clearTimeout(timer);
      resolve();
    };
    promise.then(done, done);
  });
}
