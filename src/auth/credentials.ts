import type { RequestHeaders } from '../http/headers.js';
import { readBearerToken } from './bearer.js';
import { badForwardedHeaders, type AuthError } from './errors.js';
import { viewerFromResolverHeaders } from './forwarded.js';
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
 */
export function createCredentials(verifier: Verifier, refusals: Refusals): Credentials {
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
