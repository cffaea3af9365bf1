import { invalidRequest } from './errors.js';

/** Longest access token accepted; Authgear's are about 1 KiB. */
export const MAX_TOKEN_BYTES = 8 * 1024;

// RFC 7235 token68: the only syntax a Bearer credential may have (RFC 6750 2.1).
const TOKEN68 = /^[A-Za-z0-9\-._~+/]+=*$/;
const SCHEME = /^([!#$%&'*+\-.^_`|~0-9A-Za-z]+)(?: +(.*))?$/s;
// The well-formed case in one pass; anything else gets the detailed checks below.
const WELL_FORMED = /^[Bb][Ee][Aa][Rr][Ee][Rr] +([A-Za-z0-9\-._~+/]+=*)$/;

/**
 * Reads the Bearer token from the Authorization header values of one request.
 * Absent header: null (a guest). Present but unusable: throws, never a guest.
 */
export function readBearerToken(values: readonly string[] | undefined): string | null {
  if (values === undefined || values.length === 0) return null;
  if (values.length > 1) {
    throw invalidRequest('Send exactly one Authorization header.');
  }
  const header = values[0] ?? '';
  // Checked before and after parsing: the first bounds the work done on the header.
  if (header.length > MAX_TOKEN_BYTES + 64) throw tooLong();
  const token = WELL_FORMED.exec(header)?.[1];
  if (token !== undefined && token.length <= MAX_TOKEN_BYTES) return token;
  const match = SCHEME.exec(header);
  if (match === null) {
    throw invalidRequest('The Authorization header must be "Bearer <access token>".');
  }
  const [, scheme = '', credentials = ''] = match;
  // The "scheme" is often the token itself, sent without "Bearer ": never echo it.
  if (scheme.toLowerCase() !== 'bearer') {
    throw invalidRequest('The Authorization scheme must be Bearer: send "Authorization: Bearer <access token>".', 401);
  }
  if (credentials === '') {
    throw invalidRequest('The Authorization header has the Bearer scheme but no access token.');
  }
  if (credentials.length > MAX_TOKEN_BYTES) throw tooLong();
  if (!TOKEN68.test(credentials)) {
    throw invalidRequest('The Authorization header must carry exactly one access token after "Bearer ".');
  }
  return credentials;
}

const tooLong = () => invalidRequest(`The access token is longer than ${MAX_TOKEN_BYTES} bytes.`);
