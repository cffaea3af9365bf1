import { GraphQLError } from 'graphql';

/**
 * Every `errors[].extensions.code` this API answers with. The error table of
 * docs/errors-and-permissions.md lists the same set; clients branch on these,
 * never on messages.
 */
export type ErrorCode =
  | 'UNAUTHENTICATED'
  | 'FORBIDDEN'
  | 'REAUTHENTICATION_REQUIRED'
  | 'AUTH_PROVIDER_UNAVAILABLE'
  | 'BAD_USER_INPUT'
  | 'NOT_FOUND'
  | 'QUERY_LIMIT_EXCEEDED'
  | 'RATE_LIMITED'
  | 'PAYLOAD_TOO_LARGE'
  | 'BAD_REQUEST'
  | 'SERVICE_UNAVAILABLE'
  | 'INTERNAL_SERVER_ERROR';

/** A GraphQL error carrying one of this API's codes. */
export function coded(message: string, code: ErrorCode, extensions: Record<string, unknown> = {}): GraphQLError {
  return new GraphQLError(message, { extensions: { ...extensions, code } });
}

// Field-level errors carry no `extensions.http`: one would change the status
// of the whole response, and a denied field must not fail its siblings.

export function unauthenticated(message = 'Sign in to access this field: send an Authorization: Bearer <access token> header.'): GraphQLError {
  return coded(message, 'UNAUTHENTICATED');
}

export function forbidden(message: string): GraphQLError {
  return coded(message, 'FORBIDDEN');
}

export function reauthenticationRequired(maxAgeSeconds: number, canReauthenticate: boolean): GraphQLError {
  const how = canReauthenticate
    ? 'Ask the user to re-authenticate (Authgear reauthenticate()) and retry with the new access token.'
    : 'This user has no password, OTP or passkey to re-authenticate with: sign them in again and retry.';
  return coded(`This operation needs a sign-in from the last ${maxAgeSeconds} seconds. ${how}`, 'REAUTHENTICATION_REQUIRED', {
    maxAgeSeconds,
    canReauthenticate,
  });
}

export function badUserInput(message: string, field?: string): GraphQLError {
  return coded(message, 'BAD_USER_INPUT', field ? { field } : {});
}

export function notFound(message: string): GraphQLError {
  return coded(message, 'NOT_FOUND');
}

/** A dependency (the database) cannot answer right now; the same request may well work in a moment. */
export function serviceUnavailable(message: string): GraphQLError {
  return coded(message, 'SERVICE_UNAVAILABLE', { retryable: true });
}
