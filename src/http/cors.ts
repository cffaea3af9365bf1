import type { ServerResponse } from 'node:http';
import type { HeaderMap } from '@apollo/server';
import type { CorsPolicy } from '../config.js';
import type { Logger } from '../logger.js';

const LOOPBACK_ORIGIN = /^http:\/\/(localhost|127\.0\.0\.1|\[::1\])(:\d{1,5})?$/;

export function isAllowedOrigin(policy: CorsPolicy, origin: string): boolean {
  return policy.anyOrigin || policy.origins.includes(origin) || (policy.anyLoopbackOrigin && LOOPBACK_ORIGIN.test(origin));
}

/**
 * CORS for /graphql from an allowlist. Allowlisted origins may send
 * credentials, because a web app behind forward authentication signs in
 * with Authgear's session cookie; `*` never may (browsers refuse the pair,
 * and any site could then ride a user's cookie). Cookie-carrying "simple"
 * requests are stopped by Apollo's CSRF prevention. Returns true when it
 * answered a preflight request itself.
 */
export function applyCors(policy: CorsPolicy, method: string, headers: HeaderMap, res: ServerResponse, refused: RefusedOriginLog): boolean {
  const origin = headers.get('origin');
  const allowed = origin !== undefined && isAllowedOrigin(policy, origin);
  // Browsers send Origin on same-origin POSTs too; those need no CORS and are no refusal.
  if (origin !== undefined && !allowed && !isSameOrigin(origin, headers.get('host'))) refused(origin);
  if (origin !== undefined && !policy.anyOrigin) res.setHeader('vary', 'Origin');
  if (allowed) {
    res.setHeader('access-control-allow-origin', policy.anyOrigin ? '*' : origin);
    if (!policy.anyOrigin) res.setHeader('access-control-allow-credentials', 'true');
    res.setHeader('access-control-expose-headers', 'x-request-id, www-authenticate, retry-after, ratelimit, ratelimit-policy');
  }
  if (method !== 'OPTIONS') return false;
  if (allowed) {
    res.setHeader('access-control-allow-methods', 'GET, POST, OPTIONS');
    const requested = headers.get('access-control-request-headers');
    res.setHeader('access-control-allow-headers', requested ?? 'authorization, content-type, apollo-require-preflight');
    res.setHeader('access-control-max-age', '600');
    res.setHeader('vary', 'Origin, Access-Control-Request-Headers');
  }
  res.statusCode = 204;
  res.end();
  return true;
}

export function isSameOrigin(origin: string, host: string | undefined): boolean {
  return host !== undefined && URL.canParse(origin) && new URL(origin).host === host;
}

/** Called with each browser origin the API refused. */
export type RefusedOriginLog = (origin: string) => void;

/**
 * A browser app whose origin is not allowed sees only an opaque network
 * error, and the server answers the request without complaint, so the
 * refusal is logged here: once per origin, as a warning naming the
 * variable to set. At most `limit` origins are remembered, so a flood of
 * made-up origins grows neither memory nor the log.
 */
export function createRefusedOriginLog(logger: Logger, limit = 100): RefusedOriginLog {
  const seen = new Set<string>();
  return (origin) => {
    if (seen.has(origin) || seen.size > limit) return;
    seen.add(origin);
    if (seen.size > limit) {
      logger.warn({ limit }, `CORS: more than ${limit} different origins refused; no longer logging each one`);
      return;
    }
    logger.warn({ origin }, `CORS: refused requests from the origin ${JSON.stringify(origin)}; to let a browser app there call the API, add it to CORS_ORIGINS`);
  };
}
