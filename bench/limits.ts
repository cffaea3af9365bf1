/**
 * The project's servers in the bench run with rate limits and metrics on,
 * as in production, with budgets no load loop of the bench can spend: the
 * figures include the cost of counting, never a 429.
 */
export const UNTRIPPED_LIMITS = { RATE_LIMIT_POINTS: '1000000000', AUTH_FAILURE_LIMIT: '1000000', RATE_LIMIT_CONCURRENCY: '100000' } as const;

/** The same server with both off, for the paired "what do limits and metrics cost" figure. */
export const NO_LIMITS_NO_METRICS = { RATE_LIMIT_POINTS: '0', AUTH_FAILURE_LIMIT: '0', METRICS_PORT: 'off' } as const;
