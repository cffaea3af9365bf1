/**
 * Per-user answers of a slow lookup (UserInfo), kept for `ttlMs` and at
 * most `maxUsers` of them (the oldest stored goes first). Concurrent loads
 * for one user share one call, even with the cache off (`ttlMs` 0). A
 * failed load is not kept: the next operation asks again.
 */
export class ProfileCache<T> {
  readonly #entries = new Map<string, { value: T; expiresAtMs: number }>();
  readonly #loading = new Map<string, Promise<T>>();

  constructor(
    readonly ttlMs: number,
    readonly maxUsers: number,
  ) {}

  /** The user's answer while it is fresh: one map lookup, for the request path. */
  get(userId: string, nowMs: number): T | undefined {
    const entry = this.#entries.get(userId);
    if (entry === undefined) return undefined;
    if (entry.expiresAtMs > nowMs) return entry.value;
    this.#entries.delete(userId);
    return undefined;
  }

  /** The user's fresh answer, else the load already under way for them, else a new one. */
  load(userId: string, nowMs: number, load: () => Promise<T>): Promise<T> {
    const cached = this.get(userId, nowMs);
    if (cached !== undefined) return Promise.resolve(cached);
    const pending = this.#loading.get(userId);
    if (pending !== undefined) return pending;
    const loading = load();
    this.#loading.set(userId, loading);
    const settle = () => {
      // A drop() during the load detached it: its answer may predate the change that caused the drop.
      if (this.#loading.get(userId) !== loading) return false;
      this.#loading.delete(userId);
      return true;
    };
    loading.then(
      (value) => {
        if (settle() && this.ttlMs > 0) this.#store(userId, value);
      },
      settle,
    );
    return loading;
  }

  /** Forgets the user's answer and any load under way: their profile changed, or they are gone. */
  drop(userId: string): void {
    this.#entries.delete(userId);
    this.#loading.delete(userId);
  }

  get size(): number {
    return this.#entries.size;
  }

  #store(userId: string, value: T): void {
    this.#entries.delete(userId);
    if (this.#entries.size >= this.maxUsers) this.#entries.delete(this.#entries.keys().next().value as string);
    this.#entries.set(userId, { value, expiresAtMs: Date.now() + this.ttlMs });
  }
}
