import type { JWTPayload } from 'jose';

/** Authgear's custom claims in its user access tokens (see shared/AUTHGEAR.md). */
export const AuthgearClaim = {
  roles: 'https://authgear.com/claims/user/roles',
  isVerified: 'https://authgear.com/claims/user/is_verified',
  isAnonymous: 'https://authgear.com/claims/user/is_anonymous',
  canReauthenticate: 'https://authgear.com/claims/user/can_reauthenticate',
} as const;

/**
 * A signed-in user: from a verified access token (`source: 'jwt'`) or from
 * the headers of Authgear's resolver behind a trusted proxy
 * (`source: 'resolver'`, with empty `claims`). A guest (no credential) has
 * no Viewer; an Authgear anonymous user is one, with `isAnonymous: true`.
 */
export type UserViewer = Readonly<{
  kind: 'user';
  source: 'jwt' | 'resolver';
  id: string;
  roles: readonly string[];
  isVerified: boolean;
  isAnonymous: boolean;
  canReauthenticate: boolean;
  authenticatedAt: Date | null;
  /** Authentication methods (`amr`), e.g. ['pwd', 'otp']; [] when not told. */
  amr: readonly string[];
  claims: Readonly<JWTPayload>;
}>;

/**
 * A backend calling with a machine-to-machine (client-credentials) token.
 * It has no roles and no user flags, so a rule cannot mistake it for a user.
 */
export type ServiceViewer = Readonly<{
  kind: 'service';
  source: 'jwt';
  /** The OAuth client ID of the service. */
  id: string;
  scopes: readonly string[];
  claims: Readonly<JWTPayload>;
}>;

export type Viewer = UserViewer | ServiceViewer;

/** Whose budget and connections count: a viewer's own, a guest's per client address. */
export const principalKey = (viewer: Viewer | null, clientAddress: string): string =>
  viewer === null ? `guest:${clientAddress}` : `${viewer.kind}:${viewer.id}`;

const strings = (value: unknown): readonly string[] =>
  Object.freeze(Array.isArray(value) ? value.filter((item): item is string => typeof item === 'string') : []);

/**
 * A token is a service's when its `sub` is its `client_id` (RFC 9068) or
 * `client_id_<client_id>` (Authgear); whichever audience it was issued for.
 */
export function isServiceToken(claims: JWTPayload): boolean {
  const clientId = claims['client_id'];
  return typeof clientId === 'string' && clientId !== '' && (claims.sub === clientId || claims.sub === `client_id_${clientId}`);
}

export function viewerFromClaims(claims: JWTPayload & { sub: string }): Viewer {
  const frozenClaims = Object.freeze({ ...claims });
  if (isServiceToken(claims)) {
    const scope = claims['scope'];
    return Object.freeze({
      kind: 'service',
      source: 'jwt',
      id: claims['client_id'] as string,
      scopes: Object.freeze(typeof scope === 'string' ? scope.split(' ').filter((s) => s !== '') : []),
      claims: frozenClaims,
    });
  }
  const authTime = claims['auth_time'];
  return Object.freeze({
    kind: 'user',
    source: 'jwt',
    id: claims.sub,
    roles: strings(claims[AuthgearClaim.roles]),
    isVerified: claims[AuthgearClaim.isVerified] === true,
    isAnonymous: claims[AuthgearClaim.isAnonymous] === true,
    canReauthenticate: claims[AuthgearClaim.canReauthenticate] === true,
    authenticatedAt: typeof authTime === 'number' && Number.isFinite(authTime) ? new Date(authTime * 1000) : null,
    amr: strings(claims['amr']),
    claims: frozenClaims,
  });
}
