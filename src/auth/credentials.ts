import type { RequestHeaders } from '../http/headers.js';
import { readBearerToken } from './bearer.js';
import { badForwardedHeaders, invalidToken, type AuthError } from './errors.js';
import { viewerFromResolverHeaders } from './forwarded.js';
import type { ResolverClient } from './resolver-client.js';
import type { Verifier } from './verifier.js';
import type { Viewer } from './viewer.js';

/** What a request (or a WebSocket upgrade) offers to authenticate with. */
export type Offered = Readonly<{
  headers: RequestHeaders;
  /** The TCP peer is one of TRUSTED_PROXIES. */
  trustedPeer: boolean;
  /** A WebSocket's connection_init Authorization; it comes before the upgrade request's own header. */
  initAuthorization?: string;
}>;

export type Credentials = Readonly<{
  /** A guest (null), a viewer, or an AuthError: never a guest for a credential that was refused. */
  viewerFor(offered: Offered): Promise<Viewer | null>;
}>;

/** Users a credential may no longer stand for, whatever it says (Authgear's webhooks: disabled, deleted). */
export type Refusals = Readonly<{ readonly empty: boolean; refusal(viewer: Viewer): AuthError | null }>;

/**
 * The one place that decides which credential of a request counts, in
 * DESIGN 11's order: the resolver's headers from a trusted proxy, else the
 * Bearer token. Both end in the same frozen Viewer, which `refusals` may
 * still turn down: after the token cache, so that no cached token escapes it.
 *
 * `resolver` (forward authentication on: TRUSTED_PROXIES set) is asked
 * about a WebSocket that came through a trusted proxy without a resolver
 * answer and authenticates in connection_init: the proxy resolved the
 * upgrade, never that token. The token is verified as usual (its claims and
 * `exp` bound the connection), and a user's must also be one the resolver
 * still accepts, so a revoked session or a disabled user is refused as it
 * is over HTTP, not until the token expires. Services are not users: the
 * resolver knows nothing of them.
 */
export function createCredentials(verifier: Verifier, refusals: Refusals, resolver: ResolverClient | null = null): Credentials {
  const admitted = (viewer: Viewer): Viewer => {
    const refusal = refusals.refusal(viewer);
    if (refusal !== null) throw refusal;
    return viewer;
  };
  // Not an async function: this runs for every request, and the viewer comes
  // straight from verify()'s promise, without another promise around it
  // while nobody is refused.
  return {
    viewerFor({ headers: { map, authorization, authgear }, trustedPeer, initAuthorization }) {
      try {
        if (authgear.length > 0) {
          if (!trustedPeer) {
            throw badForwardedHeaders('untrusted_forwarded_headers', 'x-authgear-* headers are accepted only from TRUSTED_PROXIES.');
          }
          return Promise.resolve(admitted(viewerFromResolverHeaders(map, authgear)));
        }
        if (initAuthorization !== undefined && trustedPeer && resolver !== null) {
          const token = readBearerToken([initAuthorization]);
          if (token !== null) return verifier.verify(token).then((viewer) => stillAccepted(resolver, token, admitted(viewer)));
        }
        const token = readBearerToken(initAuthorization === undefined ? authorization : [initAuthorization]);
        if (token === null) return GUEST;
        const verified = verifier.verify(token);
        return refusals.empty ? verified : verified.then(admitted);
      } catch (error) {
        return Promise.reject(error instanceof Error ? error : new Error(String(error)));
      }
    },
  };
}

const GUEST: Promise<null> = Promise.resolve(null);

async function stillAccepted(resolver: ResolverClient, token: string, viewer: Viewer): Promise<Viewer> {
  if (viewer.kind !== 'user') return viewer;
  const resolved = await resolver.resolve(token);
  if (resolved.id !== viewer.id) throw invalidToken('revoked_session', "Authgear's resolver answered for another user than the token's: sign in again.");
  return viewer;
}

/**
 * The access token a request carries, for calls made on its viewer's behalf
 * (UserInfo): the one the Bearer path verified, or in resolver mode the
 * Bearer header the proxy passed along (Authgear's resolver reads it first).
 * Read only when needed, so the request path keeps no copy; null when there
 * is none (a cookie session). Never log it.
 */
export function accessTokenOf({ headers: { authorization }, initAuthorization }: Offered): string | null {
  try {
    return readBearerToken(initAuthorization === undefined ? authorization : [initAuthorization]);
  } catch {
    // Resolver mode does not check the header: a malformed one is simply no token.
    return null;
  }
}
