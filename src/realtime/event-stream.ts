/** What a stream asks of the connection it belongs to. */
export type StreamBudget = Readonly<{
  /**
   * Whether the connection may take an event of `bytes` more. When it may
   * not (too slow, or its credential ran out), the connection closes itself
   * and the event is dropped.
   */
  admit(bytes: number): boolean;
  /** The event taken by `admit` has left the stream. */
  release(bytes: number): void;
}>;

type Queued<T> = { value: T; bytes: number };

/**
 * The async iterator one subscription reads its events from. graphql-ws
 * pulls the next event only once the previous one is written to the
 * socket, so a slow reader leaves events here: each one is admitted against
 * the connection's byte budget first, which closes the connection instead
 * of letting the queue grow.
 */
export class EventStream<T> implements AsyncIterableIterator<T> {
  readonly #budget: StreamBudget;
  readonly #onEnd: () => void;
  #queue: Queued<T>[] = [];
  #waiting: ((result: IteratorResult<T>) => void) | null = null;
  #ended = false;

  constructor(budget: StreamBudget, onEnd: () => void) {
    this.#budget = budget;
    this.#onEnd = onEnd;
  }

  push(value: T, bytes: number): void {
    if (this.#ended || !this.#budget.admit(bytes)) return;
    const waiting = this.#waiting;
    if (waiting === null) {
      this.#queue.push({ value, bytes });
      return;
    }
    this.#waiting = null;
    this.#budget.release(bytes);
    waiting({ value, done: false });
  }

  next(): Promise<IteratorResult<T>> {
    const queued = this.#queue.shift();
    if (queued !== undefined) {
      this.#budget.release(queued.bytes);
      return Promise.resolve({ value: queued.value, done: false });
    }
    if (this.#ended) return Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve) => {
      this.#waiting = resolve;
    });
  }

  return(): Promise<IteratorResult<T>> {
    this.end();
    return Promise.resolve({ value: undefined, done: true });
  }

  /** Stops the stream: queued events are dropped, a waiting reader is told it is done. */
  end(): void {
    if (this.#ended) return;
    this.#ended = true;
    for (const queued of this.#queue) this.#budget.release(queued.bytes);
    this.#queue = [];
    this.#onEnd();
    const waiting = this.#waiting;
    this.#waiting = null;
    waiting?.({ value: undefined, done: true });
  }

  [Symbol.asyncIterator](): this {
    return this;
  }
}
