import { errors, jwtVerify, type JWTPayload } from 'jose';
import type { AuthConfig } from '../config.js';
import type { AuthCounters } from '../metrics.js';
import { createDiscovery, type ProviderMetadata } from './discovery.js';
import { AuthError, describeUntrusted, invalidToken } from './errors.js';
import { createKeySet, type KeySet } from './key-set.js';
import { TokenCache } from './token-cache.js';
import { viewerFromClaims, type Viewer } from './viewer.js';

export type VerifierOptions = Pick<AuthConfig, 'audience' | 'apiResource' | 'clientIds' | 'typ' | 'clockToleranceSeconds'> &
  Readonly<{
    issuer: string;
    /** `issuer` is the embedded dev issuer on this server's own origin (its URL holds PORT and HOST). */
    devIssuer?: boolean;
    httpTimeoutMs?: number;
    jwksCooldownMs?: number;
    jwksMaxAgeMs?: number;
    /** How long a failed discovery is remembered; also the 503's Retry-After. */
    retryAfterSeconds?: number;
    tokenCacheSize?: number;
    /** Token-cache hits and misses, discovery and JWKS fetches. */
    counters?: AuthCounters;
  }>;

export type Verifier = Readonly<{
  /** Resolves to the token's viewer or throws an AuthError. */
  verify(token: string): Promise<Viewer>;
  /** The issuer's discovery document, fetched once and shared (the UserInfo client reads its endpoint there). */
  provider(): Promise<ProviderMetadata>;
  /** Fetches discovery and keys now instead of on the first request. */
  warm(): Promise<void>;
  /** True once the issuer's keys have been fetched. */
  readonly ready: boolean;
  readonly retryAfterSeconds: number;
}>;

export function createVerifier(options: VerifierOptions): Verifier {
  const timeoutMs = options.httpTimeoutMs ?? 5000;
  const retryAfterSeconds = options.retryAfterSeconds ?? 5;
  const fetches = options.counters?.issuerFetches;
  const discovery = createDiscovery({ issuer: options.issuer, timeoutMs, retryAfterMs: retryAfterSeconds * 1000, ...(fetches ? { fetches } : {}) });
  const cacheLookups = options.counters?.tokenCache;
  const cache = new TokenCache<Viewer>(options.tokenCacheSize ?? 10_000);
  // Clients that keep sending the same expired or broken token are common;
  // refusing a repeat costs a map lookup instead of a signature check. An
  // unknown kid is remembered only while the key set may not be refetched.
  const refused = new TokenCache<{ error: AuthError; untilKeysRefetch: boolean }>(options.tokenCacheSize ?? 10_000);
  const refuse = (token: string, error: AuthError, nowMs: number, untilKeysRefetch = false): AuthError => {
    if (token.length <= MAX_REMEMBERED_TOKEN_LENGTH) refused.set(token, { error, untilKeysRefetch }, nowMs + REFUSAL_MEMORY_MS, nowMs);
    return error;
  };
  const clientIds = options.clientIds === null ? null : new Set(options.clientIds);
  const verifyOptions = {
    issuer: options.issuer,
    // Authgear puts the endpoint, not the client ID, in `aud` of user tokens,
    // and the API resource URI in `aud` of machine-to-machine tokens.
    audience: [options.audience ?? options.issuer, ...(options.apiResource === null ? [] : [options.apiResource])],
    algorithms: ['RS256'],
    ...(options.typ === null ? {} : { typ: options.typ }),
    clockTolerance: options.clockToleranceSeconds,
    requiredClaims: ['sub', 'exp', 'iat'],
  };

  let keySet: KeySet | null = null;
  const keys = async (): Promise<KeySet> => {
    if (keySet !== null) return keySet;
    const metadata = await discovery.get();
    keySet ??= createKeySet(metadata.jwksUri, {
      timeoutMs,
      cooldownMs: options.jwksCooldownMs ?? 30_000,
      maxAgeMs: options.jwksMaxAgeMs ?? 10 * 60_000,
      ...(fetches ? { fetches } : {}),
    });
    return keySet;
  };

  async function verifySignedToken(token: string, nowMs: number): Promise<Viewer> {
    const { getKey } = await keys();
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, getKey, verifyOptions));
    } catch (error) {
      const refusal = classify(error, options.issuer, options.devIssuer ?? false);
      if (!(refusal instanceof AuthError) || refusal.failure !== 'invalid_token' || curableByTime(error)) throw refusal;
      throw refuse(token, refusal, nowMs, error instanceof errors.JWKSNoMatchingKey);
    }
    if (typeof payload.sub !== 'string' || payload.sub === '') {
      throw refuse(token, invalidToken('invalid_claim', 'The access token\'s sub claim must be a non-empty string.'), nowMs);
    }
    if (typeof payload.iat === 'number' && payload.iat * 1000 > nowMs + options.clockToleranceSeconds * 1000) {
      throw invalidToken('not_yet_valid', 'The access token was issued in the future; check the clocks of the issuer and this server.');
    }
    if (clientIds !== null && !clientIds.has(payload['client_id'] as string)) {
      throw refuse(token, invalidToken('client_not_allowed', 'The access token was issued to a client that is not in AUTHGEAR_CLIENT_ID.'), nowMs);
    }
    const viewer = viewerFromClaims({ ...payload, sub: payload.sub });
    cache.set(token, viewer, (payload.exp ?? 0) * 1000, nowMs);
    return viewer;
  }

  return {
    verify(token) {
      const nowMs = Date.now();
      const cached = cache.get(token, nowMs);
      cacheLookups?.inc(cached === undefined ? MISS : HIT);
      if (cached !== undefined) return Promise.resolve(cached);
      const refusal = refused.get(token, nowMs);
      if (refusal === undefined || (refusal.untilKeysRefetch && !keySet?.coolingDown)) return verifySignedToken(token, nowMs);
      return Promise.reject(refusal.error);
    },
    provider: () => discovery.get(),
    async warm() {
      await (await keys()).load();
    },
    get ready() {
      return keySet?.loaded ?? false;
    },
    retryAfterSeconds,
  };
}

const HIT = { result: 'hit' } as const;
const MISS = { result: 'miss' } as const;

/** How long a refused token is remembered, and the longest one worth remembering. */
const REFUSAL_MEMORY_MS = 60_000;
const MAX_REMEMBERED_TOKEN_LENGTH = 4096;

/** A token refused for these reasons may pass once the clock catches up. */
function curableByTime(error: unknown): boolean {
  return error instanceof errors.JWTClaimValidationFailed && (error.claim === 'nbf' || error.claim === 'iat');
}

/** Names both issuers (public URLs, not secrets); with the dev issuer, the likely cause. */
function wrongIssuer(iss: unknown, issuer: string, devIssuer: boolean): string {
  const named = `The access token was issued by ${describeUntrusted(iss)}`;
  return devIssuer
    ? `${named}, but this server's dev issuer is ${issuer}: the token was minted for another PORT or HOST; run npm run token with this server's PORT and HOST.`
    : `${named}, not by AUTHGEAR_ENDPOINT (${issuer}).`;
}

/** Maps jose's failures, by code, to a reason and a description the client can act on. */
function classify(error: unknown, issuer: string, devIssuer: boolean): unknown {
  if (error instanceof AuthError) return error;
  if (error instanceof errors.JWTExpired) return invalidToken('expired', 'The access token expired; refresh it and retry.');
  if (error instanceof errors.JWTClaimValidationFailed) {
    if (error.reason === 'missing') return invalidToken('missing_claim', `The access token has no ${error.claim} claim.`);
    switch (error.claim) {
      case 'typ':
        return invalidToken('wrong_typ', 'The token\'s typ header is not at+jwt: send the access token, not the ID token.');
      case 'nbf':
      case 'iat':
        return invalidToken('not_yet_valid', 'The access token is not valid yet.');
      case 'iss':
        return invalidToken('wrong_issuer', wrongIssuer(error.payload['iss'], issuer, devIssuer));
      case 'aud':
        return invalidToken('wrong_audience', 'The access token is meant for another audience.');
      default:
        return invalidToken('invalid_claim', `The access token's ${error.claim} claim is invalid.`);
    }
  }
  if (error instanceof errors.JOSEAlgNotAllowed) return invalidToken('alg_not_allowed', 'The access token must be signed with RS256.');
  if (error instanceof errors.JWSSignatureVerificationFailed) return invalidToken('bad_signature', 'The access token\'s signature is invalid.');
  if (error instanceof errors.JWKSNoMatchingKey) return invalidToken('unknown_kid', 'No signing key of the issuer matches the access token\'s kid.');
  if (error instanceof errors.JWKSMultipleMatchingKeys) return invalidToken('unknown_kid', 'Several keys match the access token\'s kid.');
  if (error instanceof errors.JOSEError) return invalidToken('malformed_token', 'The access token is malformed.');
  return error;
}
