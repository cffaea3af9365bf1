/**
 * A bounded LRU of verified tokens, keyed by the raw token, so a client that
 * repeats its token skips the signature check. An entry never outlives the
 * token's own `exp`; the oldest entry is dropped when the cache is full.
 */
export class TokenCache<V> {
  readonly #entries = new Map<string, { value: V; expiresAtMs: number }>();

  constructor(readonly maxEntries: number) {}

  get(token: string, nowMs: number): V | undefined {
    const entry = this.#entries.get(token);
    if (entry === undefined) return undefined;
    this.#entries.delete(token);
    if (nowMs >= entry.expiresAtMs) return undefined;
    this.#entries.set(token, entry);
    return entry.value;
  }

  set(token: string, value: V, expiresAtMs: number, nowMs: number): void {
    if (this.maxEntries <= 0 || nowMs >= expiresAtMs) return;
    this.#entries.delete(token);
    if (this.#entries.size >= this.maxEntries) {
      const oldest = this.#entries.keys().next();
      if (!oldest.done) this.#entries.delete(oldest.value);
    }
    this.#entries.set(token, { value, expiresAtMs });
  }

  get size(): number {
    return this.#entries.size;
  }
}
