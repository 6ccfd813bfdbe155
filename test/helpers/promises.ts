/**
 * Whether `promise` settles before the event loop turns again: on microtasks alone, without a
 * timer or I/O. A handler that honours an abort at once passes whatever the machine's load; one
 * that goes on to its next read or wait does not, however fast the machine.
 */
export async function settlesWithoutWaiting(promise: Promise<unknown>): Promise<boolean> {
  const settled = promise.then(
    () => true,
    () => true,
  );
  const nextTurn = new Promise<boolean>((resolve) => setImmediate(() => resolve(false)));
  return Promise.race([settled, nextTurn]);
}
