import { HeaderMap } from '@apollo/server';
import type { GraphQLError } from 'graphql';
import { coded } from '../errors.js';

/**
 * Why a request's credentials were refused, in RFC 6750 terms; plus the
 * failure that is not the client's fault (the issuer could not be reached)
 * and resolver headers that a proxy should never have sent.
 */
export type AuthFailure = 'invalid_request' | 'invalid_token' | 'provider_unavailable' | 'bad_forwarded_headers';

/**
 * The stable, machine-readable cause of a refusal: the label of the
 * authentication metrics, the `authReason` of log lines, and what the
 * refused-credential throttle counts (src/limits/).
 */
export type RefusalReason =
  | 'malformed_header'
  | 'malformed_token'
  | 'bad_signature'
  | 'unknown_kid'
  | 'alg_not_allowed'
  | 'wrong_typ'
  | 'wrong_issuer'
  | 'wrong_audience'
  | 'missing_claim'
  | 'invalid_claim'
  | 'expired'
  | 'not_yet_valid'
  | 'client_not_allowed'
  | 'revoked_session'
  | 'user_disabled'
  | 'user_deleted'
  | 'untrusted_forwarded_headers'
  | 'malformed_forwarded_headers'
  | 'provider_unavailable';

export class AuthError extends Error {
  constructor(
    readonly failure: AuthFailure,
    readonly reason: RefusalReason,
    /** Safe to show to the client and to log: never contains the credential. */
    readonly description: string,
    readonly status: 400 | 401 | 503,
    options?: { cause?: unknown },
  ) {
    super(description, options);
    this.name = 'AuthError';
  }
}

export const invalidRequest = (description: string, status: 400 | 401 = 400): AuthError =>
  new AuthError('invalid_request', 'malformed_header', description, status);

export const invalidToken = (reason: RefusalReason, description: string): AuthError => new AuthError('invalid_token', reason, description, 401);

export const providerUnavailable = (description: string, cause?: unknown): AuthError =>
  new AuthError('provider_unavailable', 'provider_unavailable', description, 503, { cause });

// One of each: a refused user's every request is answered with the same error, built once.
const SUSPENDED = new AuthError(
  'invalid_token',
  'user_disabled',
  'This user account is disabled in Authgear: its tokens and sessions are refused until it is re-enabled.',
  401,
);
const REMOVED = new AuthError('invalid_token', 'user_deleted', 'This user account was deleted in Authgear: its tokens and sessions are refused.', 401);

/** Authgear said (webhook user.disabled) that this user is disabled. The token itself is genuine. */
export const userSuspended = (): AuthError => SUSPENDED;

/** Authgear said (webhook user.deleted or user.anonymized) that this user is gone for good. */
export const userRemoved = (): AuthError => REMOVED;

/** The proxy's fault, not the client's: a 400 that names the header. */
export const badForwardedHeaders = (reason: 'untrusted_forwarded_headers' | 'malformed_forwarded_headers', description: string): AuthError =>
  new AuthError('bad_forwarded_headers', reason, description, 400);

/** RFC 6750 error_description allows printable ASCII except `"` and `\`. */
function quotable(text: string): string {
  return text.replace(/[^\x20-\x21\x23-\x5b\x5d-\x7e]/g, '');
}

/**
 * A value from a refused token (attacker-chosen text) fit to show in a
 * description: only the characters a quoted error_description allows, and
 * at most `maxLength` of them, so it cannot bloat a header or a log line.
 */
export function describeUntrusted(value: unknown, maxLength = 100): string {
  if (typeof value !== 'string') {
    const kind = value === null ? 'null' : Array.isArray(value) ? 'an array' : typeof value === 'object' ? 'an object' : `a ${typeof value}`;
    return `(${kind}, not a string)`;
  }
  const text = quotable(value);
  return text.length > maxLength ? `${text.slice(0, maxLength)}...` : text;
}

/**
 * Turns an AuthError into the error Apollo answers for the whole request:
 * the status and headers travel in `extensions.http`, which Apollo strips
 * from the JSON body.
 */
export function toGraphQLError(error: AuthError, retryAfterSeconds: number): GraphQLError {
  let answer = answers.get(error);
  if (answer === undefined) {
    answer = buildAnswer(error, retryAfterSeconds);
    answers.set(error, answer);
  }
  return answer;
}

// A remembered refusal is answered again and again: build its error once.
const answers = new WeakMap<AuthError, GraphQLError>();

function buildAnswer(error: AuthError, retryAfterSeconds: number): GraphQLError {
  switch (error.failure) {
    case 'provider_unavailable':
      return coded('The authentication provider is unreachable, so the access token cannot be verified. Retry later.', 'AUTH_PROVIDER_UNAVAILABLE', {
        http: { status: 503, headers: new HeaderMap([['retry-after', String(retryAfterSeconds)]]) },
      });
    case 'bad_forwarded_headers':
      return coded(error.description, 'BAD_REQUEST', { http: { status: 400 } });
    case 'invalid_request':
    case 'invalid_token': {
      const challenge = `Bearer error="${error.failure}", error_description="${quotable(error.description)}"`;
      return coded(error.description, 'UNAUTHENTICATED', {
        // A disabled or deleted user is refused like a revoked token, but no refresh will cure it: say which.
        reason: error.reason === 'user_disabled' || error.reason === 'user_deleted' ? error.reason : error.failure,
        http: { status: error.status, headers: new HeaderMap([['www-authenticate', challenge]]) },
      });
    }
  }
}
