import type { ServerResponse } from 'node:http';
import type { HeaderMap } from '@apollo/server';
import type { CorsPolicy } from '../config.js';

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
export function applyCors(policy: CorsPolicy, method: string, headers: HeaderMap, res: ServerResponse): boolean {
  const origin = headers.get('origin');
  const allowed = origin !== undefined && isAllowedOrigin(policy, origin);
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
