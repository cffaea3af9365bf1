import type { IncomingMessage, ServerResponse } from 'node:http';
import type { JWTPayload } from 'jose';
import { sendError, sendJson } from '../http/respond.js';
import { DEV_SESSION_COOKIE, type DevIssuer } from './dev-issuer.js';
import { ResolverHeader } from './forwarded.js';
import { RESOLVER_PATH } from './resolver-client.js';
import { AuthgearClaim } from './viewer.js';

/**
 * A development stand-in for Authgear's `/_resolver/resolve`, the endpoint a
 * reverse proxy asks about each request (shared/AUTHGEAR.md, last section):
 * GET or HEAD, always 200 with an empty body, the answer in x-authgear-*
 * headers. It reads the Bearer token first, then the dev session cookie,
 * and knows revoked sessions and disabled users at once, as Authgear does.
 *
 * Loopback clients can revoke a session, or disable, re-enable or delete a user:
 *   POST /_dev/sessions/<session id>/revoke
 *   POST /_dev/users/<user id>/disable      (and /enable, /delete)
 * which is what `npm run token -- --revoke-session ... | --disable-user ...` calls.
 * A user's change is also told to the API the way Authgear tells it, by a
 * signed webhook call (`onUserChange`), so the JWT mode refuses them too.
 */

const ACCESS_TOKEN_COOKIE = 'app_access_token';
const CONTROL = /^\/_dev\/(sessions|users)\/([^/]{1,200})\/(revoke|disable|enable|delete)$/;

export type UserChange = 'disable' | 'enable' | 'delete';

export class DevResolver {
  readonly #revokedSessions = new Set<string>();
  readonly #disabledUsers = new Set<string>();
  readonly #deletedUsers = new Set<string>();

  constructor(
    readonly issuer: DevIssuer,
    private readonly onUserChange: (change: UserChange, userId: string) => Promise<void> = async () => undefined,
  ) {}

  revokeSession(sessionId: string): void {
    this.#revokedSessions.add(sessionId);
  }

  disableUser(userId: string): void {
    this.#disabledUsers.add(userId);
  }

  enableUser(userId: string): void {
    this.#disabledUsers.delete(userId);
  }

  deleteUser(userId: string): void {
    this.#deletedUsers.add(userId);
  }

  /** The x-authgear-* headers Authgear would answer for these request headers. */
  async resolve(authorization: string | undefined, cookie: string | undefined): Promise<Record<string, string>> {
    // Authgear's order: the Bearer header, then the app_session cookie, then the app_access_token cookie.
    const token = authorization === undefined ? undefined : /^Bearer +(\S+)$/i.exec(authorization)?.[1];
    const session = token === undefined ? cookieValue(cookie, DEV_SESSION_COOKIE) : undefined;
    const cookieToken = token === undefined && session === undefined ? cookieValue(cookie, ACCESS_TOKEN_COOKIE) : undefined;
    let claims: JWTPayload | null;
    if (session !== undefined) {
      claims = await this.issuer.check(session, 'session');
      if (claims !== null && this.#revokedSessions.has(claims['sid'] as string)) claims = null;
    } else {
      const accessToken = token ?? cookieToken;
      if (accessToken === undefined) return {};
      claims = await this.issuer.check(accessToken, 'access-token');
    }
    const sub = claims?.sub as string;
    if (claims === null || this.#disabledUsers.has(sub) || this.#deletedUsers.has(sub)) return { [ResolverHeader.sessionValid]: 'false' };
    return answerFor(claims);
  }

  async handle(req: IncomingMessage, res: ServerResponse, path: string, fromLoopback: boolean): Promise<boolean> {
    if (path === RESOLVER_PATH) {
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        sendError(res, 405, 'BAD_REQUEST', `${req.method} is not supported on ${RESOLVER_PATH}; use GET or HEAD.`, { allow: 'GET, HEAD' });
        return true;
      }
      const { authorization, cookie } = req.headers;
      res.writeHead(200, { ...(await this.resolve(authorization, cookie)), 'cache-control': 'no-store', 'content-length': '0' });
      res.end();
      return true;
    }
    const control = req.method === 'POST' ? CONTROL.exec(path) : null;
    if (control === null) return false;
    if (!fromLoopback) {
      sendError(res, 403, 'FORBIDDEN', 'The dev issuer controls answer loopback clients only.');
      return true;
    }
    const [, kind, rawId = '', action] = control;
    const id = decodeURIComponent(rawId);
    if (kind === 'sessions' && action === 'revoke') this.revokeSession(id);
    else if (kind === 'users' && action === 'disable') this.disableUser(id);
    else if (kind === 'users' && action === 'enable') this.enableUser(id);
    else if (kind === 'users' && action === 'delete') this.deleteUser(id);
    else return false;
    if (kind === 'users') {
      try {
        await this.onUserChange(action as UserChange, id);
      } catch (error) {
        sendError(res, 502, 'SERVICE_UNAVAILABLE', `The resolver changed, but the webhook to the API failed: ${(error as Error).message}`);
        return true;
      }
    }
    sendJson(res, 200, { ok: true, [kind === 'sessions' ? 'sessionId' : 'userId']: id, action });
    return true;
  }
}

function answerFor(claims: JWTPayload): Record<string, string> {
  const roles = claims[AuthgearClaim.roles];
  const amr = claims['amr'];
  const authTime = claims['auth_time'];
  return {
    [ResolverHeader.sessionValid]: 'true',
    [ResolverHeader.userId]: claims.sub as string,
    [ResolverHeader.verified]: String(claims[AuthgearClaim.isVerified] === true),
    [ResolverHeader.anonymous]: String(claims[AuthgearClaim.isAnonymous] === true),
    [ResolverHeader.canReauthenticate]: String(claims[AuthgearClaim.canReauthenticate] === true),
    ...(Array.isArray(roles) && roles.length > 0 ? { [ResolverHeader.roles]: roles.join(',') } : {}),
    ...(Array.isArray(amr) && amr.length > 0 ? { [ResolverHeader.amr]: amr.join(' ') } : {}),
    ...(typeof authTime === 'number' ? { [ResolverHeader.authenticatedAt]: String(authTime) } : {}),
  };
}

function cookieValue(header: string | undefined, name: string): string | undefined {
  for (const pair of header?.split(';') ?? []) {
    const at = pair.indexOf('=');
    if (at !== -1 && pair.slice(0, at).trim() === name) return pair.slice(at + 1).trim();
  }
  return undefined;
}
