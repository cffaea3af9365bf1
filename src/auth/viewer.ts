import type { JWTPayload } from 'jose';

/** Authgear's custom claims in its user access tokens (see shared/AUTHGEAR.md). */
export const AuthgearClaim = {
  roles: 'https://authgear.com/claims/user/roles',
  isVerified: 'https://authgear.com/claims/user/is_verified',
  isAnonymous: 'https://authgear.com/claims/user/is_anonymous',
  canReauthenticate: 'https://authgear.com/claims/user/can_reauthenticate',
} as const;

/**
 * The signed-in user of a request, built only from verified claims.
 * A guest (no token) has no Viewer; an Authgear anonymous user has one with
 * `isAnonymous: true`.
 */
export type Viewer = Readonly<{
  id: string;
  roles: readonly string[];
  isVerified: boolean;
  isAnonymous: boolean;
  canReauthenticate: boolean;
  authenticatedAt: Date | null;
  claims: Readonly<JWTPayload>;
}>;

export function viewerFromClaims(claims: JWTPayload & { sub: string }): Viewer {
  const roles = claims[AuthgearClaim.roles];
  const authTime = claims['auth_time'];
  return Object.freeze({
    id: claims.sub,
    roles: Object.freeze(Array.isArray(roles) ? roles.filter((r): r is string => typeof r === 'string') : []),
    isVerified: claims[AuthgearClaim.isVerified] === true,
    isAnonymous: claims[AuthgearClaim.isAnonymous] === true,
    canReauthenticate: claims[AuthgearClaim.canReauthenticate] === true,
    authenticatedAt: typeof authTime === 'number' && Number.isFinite(authTime) ? new Date(authTime * 1000) : null,
    claims: Object.freeze({ ...claims }),
  });
}
