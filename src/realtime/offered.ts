import type { Offered } from '../auth/credentials.js';
import { invalidRequest } from '../auth/errors.js';
import type { RequestHeaders } from '../http/headers.js';

/**
 * What a WebSocket connection offers to authenticate with: its upgrade
 * request's headers (resolver headers from a trusted proxy, or an
 * Authorization header) and the connection_init payload's Authorization,
 * in any case (`Authorization`, `authorization`, ...). Only a string
 * counts; two spellings of it are refused, as two headers are over HTTP.
 * credentials.ts decides which of them wins.
 */
export function offeredByConnection(headers: RequestHeaders, trustedPeer: boolean, connectionParams: Readonly<Record<string, unknown>> | undefined): Offered {
  let initAuthorization: string | undefined;
  for (const [key, value] of Object.entries(connectionParams ?? {})) {
    if (typeof value !== 'string' || key.toLowerCase() !== 'authorization') continue;
    if (initAuthorization !== undefined) throw invalidRequest('Send one Authorization in connection_init, not several spellings of it.');
    initAuthorization = value;
  }
  return initAuthorization === undefined ? { headers, trustedPeer } : { headers, trustedPeer, initAuthorization };
}
