import type { AuthError, RefusalReason } from '../auth/errors.js';
import type { Budget } from './budget.js';

/**
 * Refused credentials per client address. Past the limit the address is
 * refused unheard (429 before any token is parsed or verified) for the rest
 * of its window. The count is the budget's (shared between replicas with
 * RATE_LIMIT_STORE=postgres); the block is remembered in this process, so
 * the check on every request costs a map lookup, not a store round trip. A
 * replica learns of a block from its own counting: at worst one more
 * refused credential per replica.
 */
export type AuthFailureThrottle = Readonly<{
  budget: Budget;
  /** Seconds until `address` may send credentials again; 0 when it may now. */
  blockedFor(address: string): number;
  /** Counts a refusal when no refresh of the credential could have cured it. */
  record(address: string, error: AuthError): Promise<void>;
}>;

// Time cures the first two; the next two are genuine tokens of a user Authgear disabled or deleted;
// the resolver's refusal may be an expired token too.
const NOT_ABUSE: ReadonlySet<RefusalReason> = new Set<RefusalReason>(['expired', 'not_yet_valid', 'user_disabled', 'user_deleted', 'revoked_session']);

/**
 * Malformed headers, bad signatures, wrong issuer, audience, algorithm or
 * typ: what a forger or a broken client sends. Not an expired or
 * not-yet-valid token (every client sends one now and then), a disabled or
 * deleted user's genuine token, an unreachable issuer, or resolver headers
 * a proxy should not have sent. Nor a refusal by Authgear's resolver
 * (revoked_session): it answers `false` for an expired token as well and
 * cannot say which it was, so counting it would lock out a whole shared
 * address over tokens that a refresh cures; behind a proxy, that proxy is
 * where such a throttle belongs.
 */
export function countsAsAbuse(error: AuthError): boolean {
  if (error.failure === 'invalid_request') return true;
  return error.failure === 'invalid_token' && !NOT_ABUSE.has(error.reason);
}

export function createAuthFailureThrottle(budget: Budget): AuthFailureThrottle {
  const blockedUntil = new Map<string, number>();
  return {
    budget,
    blockedFor(address) {
      const until = blockedUntil.get(address);
      if (until === undefined) return 0;
      const left = until - Date.now();
      if (left > 0) return Math.ceil(left / 1000);
      blockedUntil.delete(address);
      return 0;
    },
    async record(address, error) {
      if (!countsAsAbuse(error)) return;
      const { standing } = await budget.spend(address, 1);
      if (standing.remaining === 0) blockedUntil.set(address, standing.resetAt.getTime());
    },
  };
}
