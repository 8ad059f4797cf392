/**
 * Lets a test wait for a condition on data that arrives in events (stream parts, stderr text)
 * without polling: the producer calls notify() on every change, and until() re-checks then.
 */
export class Notifier {
  readonly #waiters = new Set<() => void>();

  notify(): void {
    for (const waiter of [...this.#waiters]) waiter();
  }

  /**
   * Resolves with the first value `probe` returns other than undefined, checking now and on each
   * notify(); rejects with whatever `probe` throws, or with `onTimeout()` after `timeoutMs`.
   */
  until<T>(probe: () => T | undefined, timeoutMs: number, onTimeout: () => Error): Promise<T> {
    return new Promise((resolve, reject) => {
      const done = (settle: () => void) => {
        clearTimeout(timer);
        this.#waiters.delete(check);
        settle();
      };
      const check = () => {
        try {
          const value = probe();
          if (value !== undefined) done(() => resolve(value));
        } catch (error) {
          done(() => reject(error));
        }
      };
      const timer = setTimeout(() => done(() => reject(onTimeout())), timeoutMs);
      this.#waiters.add(check);
      check();
    });
  }
}
