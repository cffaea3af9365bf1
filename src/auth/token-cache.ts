/**
 * A bounded cache of verified tokens, keyed by the raw token, so a client that
 * repeats its token skips the signature check. An entry never outlives the
 * token's own `exp`. When full, the oldest entry goes: a token still in use
 * is simply verified (and cached) again, which is cheaper than keeping
 * recency order on every hit.
 */
export class TokenCache<V> {
  readonly #entries = new Map<string, { value: V; expiresAtMs: number }>();

  constructor(readonly maxEntries: number) {}

  get(token: string, nowMs: number): V | undefined {
    const entry = this.#entries.get(token);
    if (entry === undefined) return undefined;
    if (nowMs < entry.expiresAtMs) return entry.value;
    this.#entries.delete(token);
    return undefined;
  }

  set(token: string, value: V, expiresAtMs: number, nowMs: number): void {
    if (this.maxEntries <= 0 || nowMs >= expiresAtMs) return;
    if (!this.#entries.has(token) && this.#entries.size >= this.maxEntries) {
      const oldest = this.#entries.keys().next();
      if (!oldest.done) this.#entries.delete(oldest.value);
    }
    this.#entries.set(token, { value, expiresAtMs });
  }

  get size(): number {
    return this.#entries.size;
  }
}
