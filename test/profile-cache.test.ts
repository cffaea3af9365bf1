import { describe, expect, it } from 'vitest';
import { ProfileCache } from '../src/auth/profile-cache.js';

/** A load the test settles by hand, so that "in flight" is a state it controls. */
function deferred<T>() {
  let resolve!: (value: T) => void;
  let reject!: (error: Error) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

const now = () => Date.now();

describe('ProfileCache', () => {
  it('keeps an answer for ttl and serves it from one lookup; past ttl it is gone', async () => {
    const cache = new ProfileCache<string>(1000, 10);
    await cache.load('u1', now(), () => Promise.resolve('answer'));
    expect(cache.get('u1', now())).toBe('answer');
    expect(cache.get('u1', now() + 1001)).toBeUndefined();
    expect(cache.size).toBe(0);
  });

  it('is bounded: past maxUsers the oldest stored user goes first', async () => {
    const cache = new ProfileCache<number>(60_000, 3);
    for (let user = 1; user <= 4; user++) await cache.load(`u${user}`, now(), () => Promise.resolve(user));
    expect(cache.size).toBe(3);
    expect(cache.get('u1', now())).toBeUndefined();
    expect(cache.get('u4', now())).toBe(4);
  });

  it('the default bound holds 10,000 users and not one more', async () => {
    const cache = new ProfileCache<number>(60_000, 10_000);
    for (let user = 0; user <= 10_000; user++) await cache.load(`u${user}`, now(), () => Promise.resolve(user));
    expect(cache.size).toBe(10_000);
  });

  it('concurrent loads of one user share one call; a failed load is not kept', async () => {
    const cache = new ProfileCache<string>(60_000, 10);
    let calls = 0;
    const pending = deferred<string>();
    const load = () => {
      calls++;
      return pending.promise;
    };
    const first = cache.load('u1', now(), load);
    const second = cache.load('u1', now(), load);
    pending.reject(new Error('issuer down'));
    await expect(first).rejects.toThrow('issuer down');
    await expect(second).rejects.toThrow('issuer down');
    expect(calls).toBe(1);
    expect(await cache.load('u1', now(), () => Promise.resolve('back'))).toBe('back');
    expect(cache.get('u1', now())).toBe('back');
  });

  it('ttl 0 keeps nothing, yet concurrent loads still share one call', async () => {
    const cache = new ProfileCache<string>(0, 10);
    let calls = 0;
    const load = () => {
      calls++;
      return Promise.resolve('answer');
    };
    await Promise.all([cache.load('u1', now(), load), cache.load('u1', now(), load)]);
    expect(calls).toBe(1);
    expect(cache.get('u1', now())).toBeUndefined();
  });

  it('drop(user) forgets their answer, and an answer in flight during the drop is not stored', async () => {
    const cache = new ProfileCache<string>(60_000, 10);
    await cache.load('u1', now(), () => Promise.resolve('old'));
    cache.drop('u1');
    expect(cache.get('u1', now())).toBeUndefined();
    const pending = deferred<string>();
    const inFlight = cache.load('u1', now(), () => pending.promise);
    cache.drop('u1');
    pending.resolve('read before the change');
    expect(await inFlight).toBe('read before the change');
    expect(cache.get('u1', now())).toBeUndefined();
    expect(await cache.load('u1', now(), () => Promise.resolve('new'))).toBe('new');
  });
});
