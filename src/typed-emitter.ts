/**
 * A minimal typed event emitter. Unlike node:events, a listener that throws is isolated: the
 * error goes to `onListenerError` and the other listeners (and the frame path that emitted)
 * carry on, so user code subscribed to events can never break streaming.
 */
export type EventMap = Record<string, unknown[]>;

type AnyListener = (...args: unknown[]) => void;
type OnceWrapper = AnyListener & { original?: AnyListener };

export class TypedEmitter<Events extends EventMap> {
  readonly #listeners = new Map<keyof Events, Set<AnyListener>>();
  readonly #onListenerError: (error: unknown, event: keyof Events) => void;

  constructor(onListenerError: (error: unknown, event: keyof Events) => void = () => {}) {
    this.#onListenerError = onListenerError;
  }

  on<E extends keyof Events>(event: E, listener: (...args: Events[E]) => void): this {
    let set = this.#listeners.get(event);
    if (!set) this.#listeners.set(event, (set = new Set()));
    set.add(listener as unknown as AnyListener);
    return this;
  }

  off<E extends keyof Events>(event: E, listener: (...args: Events[E]) => void): this {
    const set = this.#listeners.get(event);
    if (!set) return this;
    if (!set.delete(listener as unknown as AnyListener)) {
      // A once() listener is registered through a wrapper that remembers the original.
      for (const registered of set) {
        if ((registered as OnceWrapper).original === listener) {
          set.delete(registered);
          break;
        }
      }
    }
    return this;
  }

  once<E extends keyof Events>(event: E, listener: (...args: Events[E]) => void): this {
    const wrapped = (...args: Events[E]) => {
      this.off(event, wrapped);
      listener(...args);
    };
    (wrapped as unknown as OnceWrapper).original = listener as unknown as AnyListener;
    return this.on(event, wrapped);
  }

  listenerCount(event: keyof Events): number {
    return this.#listeners.get(event)?.size ?? 0;
  }

  removeAllListeners(): void {
    this.#listeners.clear();
  }

  protected emit<E extends keyof Events>(event: E, ...args: Events[E]): void {
    const set = this.#listeners.get(event);
    if (!set || set.size === 0) return;
    for (const listener of [...set]) {
      try {
        listener(...args);
      } catch (error) {
        try {
          this.#onListenerError(error, event);
        } catch {
          // The error reporter itself failed; nothing sensible is left to tell.
        }
      }
    }
  }
}
