import type { AuthError } from '../auth/errors.js';

/**
 * The close codes this server uses. 4xxx are graphql-ws's own (4403:
 * refused or expired credential, reconnect with a fresh one; 4400: a bad
 * request; 4408: no connection_init in time), 1xxx are RFC 6455's.
 */
export const Close = {
  goingAway: 1001,
  policyViolation: 1008,
  tryAgainLater: 1013,
  badRequest: 4400,
  forbidden: 4403,
} as const;

export type Closing = Readonly<{ code: number; reason: string }>;

// RFC 6455: a close frame's payload is at most 125 bytes, two of them the code.
const MAX_REASON_BYTES = 123;

/** Cut to fit a close frame, on a character boundary. */
export function closeReason(text: string): string {
  if (Buffer.byteLength(text) <= MAX_REASON_BYTES) return text;
  let cut = text.slice(0, MAX_REASON_BYTES - 3);
  while (Buffer.byteLength(cut) > MAX_REASON_BYTES - 3) cut = cut.slice(0, -1);
  return `${cut}...`;
}

/** A refused credential as a close: the same causes as the HTTP statuses, and the same safe descriptions. */
export function refusalClosing(error: AuthError): Closing {
  switch (error.failure) {
    case 'provider_unavailable':
      return { code: Close.tryAgainLater, reason: 'The authentication provider is unreachable, so the token cannot be verified. Retry later.' };
    case 'bad_forwarded_headers':
      return { code: Close.badRequest, reason: error.description };
    case 'invalid_request':
    case 'invalid_token':
      return { code: Close.forbidden, reason: error.description };
  }
}
