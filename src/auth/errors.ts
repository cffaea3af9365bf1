import { HeaderMap } from '@apollo/server';
import type { GraphQLError } from 'graphql';
import { coded } from '../errors.js';

/**
 * Why a request's credentials were refused, in RFC 6750 terms, plus the one
 * failure that is not the client's fault: the issuer could not be reached.
 */
export type AuthFailure = 'invalid_request' | 'invalid_token' | 'provider_unavailable';

export class AuthError extends Error {
  constructor(
    readonly failure: AuthFailure,
    /** Safe to show to the client and to log: never contains the token. */
    readonly description: string,
    readonly status: 400 | 401 | 503,
    options?: { cause?: unknown },
  ) {
    super(description, options);
    this.name = 'AuthError';
  }
}

export const invalidRequest = (description: string, status: 400 | 401 = 400): AuthError =>
  new AuthError('invalid_request', description, status);

export const invalidToken = (description: string): AuthError => new AuthError('invalid_token', description, 401);

export const providerUnavailable = (description: string, cause?: unknown): AuthError =>
  new AuthError('provider_unavailable', description, 503, { cause });

/** RFC 6750 error_description allows printable ASCII except `"` and `\`. */
function quotable(text: string): string {
  return text.replace(/[^\x20-\x21\x23-\x5b\x5d-\x7e]/g, '');
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
  if (error.failure === 'provider_unavailable') {
    return coded('The authentication provider is unreachable, so the access token cannot be verified. Retry later.', 'AUTH_PROVIDER_UNAVAILABLE', {
      http: { status: 503, headers: new HeaderMap([['retry-after', String(retryAfterSeconds)]]) },
    });
  }
  const challenge = `Bearer error="${error.failure}", error_description="${quotable(error.description)}"`;
  return coded(error.description, 'UNAUTHENTICATED', {
    reason: error.failure,
    http: { status: error.status, headers: new HeaderMap([['www-authenticate', challenge]]) },
  });
}
