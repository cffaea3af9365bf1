import { createLocalJWKSet, createRemoteJWKSet, customFetch, errors, type JWTVerifyGetKey } from 'jose';
import type { Metrics } from '../metrics.js';
import { describe } from './discovery.js';
import { providerUnavailable } from './errors.js';

export type KeySetOptions = Readonly<{
  timeoutMs: number;
  /** Minimum time between two fetches caused by an unknown `kid`. */
  cooldownMs: number;
  /** After this long the key set is refetched before use. */
  maxAgeMs: number;
  fetches?: Metrics['issuerFetches'];
}>;

export type KeySet = Readonly<{
  getKey: JWTVerifyGetKey;
  /** Fetches the key set unless it is already cached. */
  load(): Promise<void>;
  readonly loaded: boolean;
  /** True while an unknown kid would not cause a refetch. */
  readonly coolingDown: boolean;
}>;

const isTokenProblem = (error: unknown): boolean =>
  error instanceof errors.JWKSNoMatchingKey || error instanceof errors.JWKSMultipleMatchingKeys;

/**
 * jose's remote key set (cached keys, refetch on an unknown `kid` after a
 * cooldown, request timeout), plus stale-if-error: when a refetch fails, keys
 * already fetched keep verifying tokens, without another fetch for the
 * cooldown. Only a key that was never fetched turns an outage into
 * AUTH_PROVIDER_UNAVAILABLE.
 */
export function createKeySet(jwksUri: URL, options: KeySetOptions): KeySet {
  const remote = createRemoteJWKSet(jwksUri, {
    timeoutDuration: options.timeoutMs,
    cooldownDuration: options.cooldownMs,
    cacheMaxAge: options.maxAgeMs,
    [customFetch]: async (...args: Parameters<typeof fetch>) => {
      try {
        const response = await fetch(...args);
        options.fetches?.inc({ document: 'jwks', result: response.ok ? 'ok' : 'error' });
        return response;
      } catch (error) {
        options.fetches?.inc({ document: 'jwks', result: 'error' });
        throw error;
      }
    },
  });
  let stale: { jwks: unknown; getKey: ReturnType<typeof createLocalJWKSet> } | null = null;
  let lastFailure: { atMs: number; error: unknown } | null = null;
  const failedRecently = () => lastFailure !== null && Date.now() - lastFailure.atMs < options.cooldownMs;

  const unavailable = (error: unknown) => providerUnavailable(`JWKS at ${jwksUri.href} failed: ${describe(error)}`, error);

  async function fromCachedKeys(header: Parameters<JWTVerifyGetKey>[0], token: Parameters<JWTVerifyGetKey>[1], cause: unknown) {
    const cached = remote.jwks();
    if (cached === undefined) throw unavailable(cause);
    if (stale?.jwks !== cached) stale = { jwks: cached, getKey: createLocalJWKSet(cached) };
    try {
      return await stale.getKey(header, token);
    } catch (localError) {
      // A kid we never saw may be a new key we cannot fetch right now: not the token's fault.
      if (localError instanceof errors.JWKSNoMatchingKey) throw unavailable(cause);
      throw localError;
    }
  }

  const getKey: JWTVerifyGetKey = async (header, token) => {
    // Right after a failed fetch, don't make every request wait for another one.
    if (failedRecently()) return fromCachedKeys(header, token, lastFailure?.error);
    try {
      return await remote(header, token);
    } catch (error) {
      if (isTokenProblem(error)) throw error;
      lastFailure = { atMs: Date.now(), error };
      return fromCachedKeys(header, token, error);
    }
  };

  return {
    getKey,
    async load() {
      if (remote.jwks() !== undefined) return;
      try {
        await remote.reload();
      } catch (error) {
        throw unavailable(error);
      }
    },
    get loaded() {
      return remote.jwks() !== undefined;
    },
    get coolingDown() {
      return remote.coolingDown || failedRecently();
    },
  };
}
