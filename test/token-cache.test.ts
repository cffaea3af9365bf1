import { describe, expect, it } from 'vitest';
import { TokenCache } from '../src/auth/token-cache.js';

describe('TokenCache', () => {
  it('returns an entry until its expiry, never at or after it', () => {
    const cache = new TokenCache<string>(10);
    cache.set('t', 'viewer', 2000, 1000);
    expect(cache.get('t', 1999)).toBe('viewer');
    expect(cache.get('t', 2000)).toBeUndefined();
    expect(cache.size).toBe(0);
  });

  it('does not store what has already expired', () => {
    const cache = new TokenCache<string>(10);
    cache.set('t', 'viewer', 1000, 1000);
    expect(cache.size).toBe(0);
  });

  it('holds at most maxEntries, dropping the oldest first', () => {
    const cache = new TokenCache<number>(3);
    for (let i = 0; i < 5; i++) cache.set(`t${i}`, i, 10_000, 0);
    expect(cache.size).toBe(3);
    expect(cache.get('t0', 1)).toBeUndefined();
    expect(cache.get('t1', 1)).toBeUndefined();
    expect([cache.get('t2', 1), cache.get('t3', 1), cache.get('t4', 1)]).toEqual([2, 3, 4]);
  });

  it('a size of 0 caches nothing', () => {
    const cache = new TokenCache<number>(0);
    cache.set('t', 1, 10_000, 0);
    expect(cache.get('t', 1)).toBeUndefined();
  });
});
