import type { HeaderMap } from '@apollo/server';
import { badForwardedHeaders, invalidToken } from './errors.js';
import type { UserViewer } from './viewer.js';

/**
 * Forward authentication: a reverse proxy asked Authgear's resolver
 * (`/_resolver/resolve`) about the request's cookie or Bearer token and
 * passed the answer on as these headers (shared/AUTHGEAR.md, last section).
 */
export const ResolverHeader = {
  sessionValid: 'x-authgear-session-valid',
  userId: 'x-authgear-user-id',
  verified: 'x-authgear-user-verified',
  anonymous: 'x-authgear-user-anonymous',
  canReauthenticate: 'x-authgear-user-can-reauthenticate',
  roles: 'x-authgear-user-roles',
  amr: 'x-authgear-session-amr',
  authenticatedAt: 'x-authgear-session-authenticated-at',
} as const;

export const RESOLVER_HEADER_PREFIX = 'x-authgear-';

const NO_CLAIMS = Object.freeze({});
const UNIX_SECONDS = /^\d{1,12}$/;

const malformed = (description: string) => badForwardedHeaders('malformed_forwarded_headers', description);

/** `true`/`false` as the resolver writes them; absent reads as false (older Authgear omits can-reauthenticate). */
function flag(headers: HeaderMap, name: string): boolean {
  const value = headers.get(name);
  if (value === undefined || value === 'false') return false;
  if (value === 'true') return true;
  throw malformed(`${name} must be true or false, as Authgear's resolver sends it.`);
}

function list(value: string | undefined, separator: string): readonly string[] {
  if (value === undefined) return Object.freeze([]);
  return Object.freeze(value.split(separator).map((item) => item.trim()).filter((item) => item !== ''));
}

/**
 * The viewer of a request whose TCP peer is a trusted proxy and that carries
 * at least one x-authgear-* header (`names`, each as sent). Valid session:
 * its user. Invalid (revoked, expired, signed out): 401. Anything the
 * resolver never sends: 400, the proxy's fault. Never a guest.
 */
export function viewerFromResolverHeaders(headers: HeaderMap, names: readonly string[]): UserViewer {
  if (new Set(names).size !== names.length) {
    throw malformed('An x-authgear-* header came twice: the proxy must set each one, replacing what the client sent.');
  }
  const valid = headers.get(ResolverHeader.sessionValid);
  if (valid === undefined) {
    throw malformed(`x-authgear-* headers came without ${ResolverHeader.sessionValid}: the proxy must set or clear every x-authgear-* header.`);
  }
  if (valid === 'false') {
    throw invalidToken('revoked_session', 'The session or access token is no longer valid (revoked, expired or signed out): sign in again.');
  }
  if (valid !== 'true') throw malformed(`${ResolverHeader.sessionValid} must be true or false, as Authgear's resolver sends it.`);

  const id = headers.get(ResolverHeader.userId) ?? '';
  if (id.trim() === '') throw malformed(`${ResolverHeader.sessionValid} is true but ${ResolverHeader.userId} is missing.`);
  const authenticatedAt = headers.get(ResolverHeader.authenticatedAt);
  if (authenticatedAt !== undefined && !UNIX_SECONDS.test(authenticatedAt)) {
    throw malformed(`${ResolverHeader.authenticatedAt} must be Unix seconds, as Authgear's resolver sends it.`);
  }
  return Object.freeze({
    kind: 'user',
    source: 'resolver',
    id,
    roles: list(headers.get(ResolverHeader.roles), ','),
    isVerified: flag(headers, ResolverHeader.verified),
    isAnonymous: flag(headers, ResolverHeader.anonymous),
    canReauthenticate: flag(headers, ResolverHeader.canReauthenticate),
    authenticatedAt: authenticatedAt === undefined ? null : new Date(Number(authenticatedAt) * 1000),
    amr: list(headers.get(ResolverHeader.amr), ' '),
    claims: NO_CLAIMS,
  });
}
