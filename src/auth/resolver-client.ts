import { HeaderMap } from '@apollo/server';
import { invalidToken, providerUnavailable } from './errors.js';
import { RESOLVER_HEADER_PREFIX, ResolverHeader, viewerFromResolverHeaders } from './forwarded.js';
import type { UserViewer } from './viewer.js';

/** Where Authgear (and the dev issuer) answers resolver calls, under the issuer's origin. */
export const RESOLVER_PATH = '/_resolver/resolve';

export type ResolverClient = Readonly<{
  /** Asks the resolver about one access token, as a proxy would: its user, or an AuthError. */
  resolve(token: string): Promise<UserViewer>;
}>;

/**
 * The API asking Authgear's resolver itself, for the one credential the
 * proxy never sees: a token sent in a WebSocket's connection_init, after
 * the upgrade request went through the proxy. The answer is read exactly
 * as a proxy's x-authgear-* headers are (forwarded.ts): `false` is a
 * refusal (revoked_session), as over HTTP. No answer within `timeoutMs`,
 * or not a 200: the provider is unavailable (close 1013).
 */
export function createResolverClient(options: Readonly<{ issuer: string; timeoutMs: number }>): ResolverClient {
  const url = `${options.issuer}${RESOLVER_PATH}`;
  return {
    async resolve(token) {
      let response: Response;
      try {
        response = await fetch(url, { headers: { authorization: `Bearer ${token}` }, redirect: 'manual', signal: AbortSignal.timeout(options.timeoutMs) });
        // The answer is in the headers; the resolver sends no body.
        await response.body?.cancel();
      } catch (error) {
        throw providerUnavailable("Authgear's resolver could not be reached to check the token.", error);
      }
      if (response.status !== 200) throw providerUnavailable(`Authgear's resolver answered HTTP ${response.status} instead of 200.`);
      const headers = new HeaderMap();
      const names: string[] = [];
      for (const [name, value] of response.headers) {
        if (!name.startsWith(RESOLVER_HEADER_PREFIX)) continue;
        headers.set(name, value);
        names.push(name);
      }
      // It answers without x-authgear-session-valid when it found no credential it knows.
      if (!headers.has(ResolverHeader.sessionValid)) throw invalidToken('revoked_session', "Authgear's resolver does not accept this access token: sign in again.");
      return viewerFromResolverHeaders(headers, names);
    },
  };
}
