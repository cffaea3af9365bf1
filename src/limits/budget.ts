import { RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';

/** Where a key stands in its window: what Query.rateLimit and the RateLimit header tell the client. */
export type Standing = Readonly<{
  limit: number;
  /** What the operation cost (0 when nothing was spent). */
  cost: number;
  remaining: number;
  resetAt: Date;
}>;

export type Spent = Readonly<{ allowed: true; standing: Standing }> | Readonly<{ allowed: false; standing: Standing; retryAfterSeconds: number }>;

/** A named budget of points per window, e.g. query cost per viewer. */
export type Budget = Readonly<{
  name: string;
  limit: number;
  windowSeconds: number;
  /** Spends `cost` from the key's window; an operation refused for lack of points spends nothing. */
  spend(key: string, cost: number): Promise<Spent>;
  /** Where the key stands, spending nothing. */
  peek(key: string): Promise<Standing>;
  /** The IETF ratelimit-headers draft's RateLimit-Policy and RateLimit fields. */
  headers(standing: Standing): [string, string][];
}>;

const secondsUntil = (date: Date): number => Math.max(0, Math.ceil((date.getTime() - Date.now()) / 1000));

export function createBudget(name: string, limiter: RateLimiterAbstract, limit: number, windowSeconds: number): Budget {
  const standing = (res: RateLimiterRes, consumed: number, cost: number): Standing => ({
    limit,
    cost,
    remaining: Math.max(0, limit - consumed),
    resetAt: new Date(Date.now() + (res.msBeforeNext > 0 ? res.msBeforeNext : windowSeconds * 1000)),
  });
  const policy = `"${name}";q=${limit};w=${windowSeconds}`;
  return {
    name,
    limit,
    windowSeconds,
    async spend(key, cost) {
      try {
        const res = await limiter.consume(key, cost);
        return { allowed: true, standing: standing(res, res.consumedPoints, cost) };
      } catch (error) {
        if (!(error instanceof RateLimiterRes)) throw error;
        // consume() counted the refused points too: give them back.
        await limiter.reward(key, cost).catch(() => undefined);
        const refused = standing(error, error.consumedPoints - cost, cost);
        return { allowed: false, standing: refused, retryAfterSeconds: Math.max(1, secondsUntil(refused.resetAt)) };
      }
    },
    async peek(key) {
      const res = await limiter.get(key);
      return res === null ? { limit, cost: 0, remaining: limit, resetAt: new Date(Date.now() + windowSeconds * 1000) } : standing(res, res.consumedPoints, 0);
    },
    headers: (at) => [
      ['ratelimit-policy', policy],
      ['ratelimit', `"${name}";r=${at.remaining};t=${secondsUntil(at.resetAt)}`],
    ],
  };
}
