import pg from 'pg';
import { RateLimiterMemory, RateLimiterPostgres, type RateLimiterAbstract } from 'rate-limiter-flexible';
import type { Logger } from '../logger.js';

/** Where the counters of the limits live; every limiter is rate-limiter-flexible's. */
export type LimiterStore = Readonly<{
  /** A fixed window of `points` per key, starting at the key's first use. */
  limiter(name: string, points: number, windowSeconds: number): Promise<RateLimiterAbstract>;
  close(): Promise<void>;
}>;

/** Counters in this process: exact, fast, and per replica. */
export function memoryStore(): LimiterStore {
  return {
    limiter: async (name, points, windowSeconds) => new RateLimiterMemory({ keyPrefix: name, points, duration: windowSeconds }),
    close: async () => undefined,
  };
}

/** How often a request tries the store again while it is down. */
const PROBE_INTERVAL_MS = 1000;

/** The table rate-limiter-flexible creates (if missing) and shares between every replica. */
const TABLE = 'rate_limits';

/**
 * Counters in the PostgreSQL server, shared by every replica. When the
 * server cannot answer, each limiter counts in memory instead (its
 * insurance limiter): requests are still served and limited per replica,
 * and the outage is logged when it starts and when it ends.
 */
export async function postgresStore(url: string, logger: Logger): Promise<LimiterStore> {
  // Short timeouts: every operation waits for its counter.
  const pool = new pg.Pool({ connectionString: url, max: 4, connectionTimeoutMillis: 2000, query_timeout: 2000 });
  // A dropped idle connection is an 'error' on the pool; the next query reports the outage.
  pool.on('error', () => undefined);
  let down = false;
  let lastFailureMs = 0;
  const client = {
    async query(query: pg.QueryConfig) {
      // While the store is down, one request a second finds out whether it is back;
      // the others go to the insurance limiter at once instead of waiting for a timeout.
      if (down && Date.now() - lastFailureMs < PROBE_INTERVAL_MS) throw new Error('rate-limit store unavailable');
      try {
        const result = await pool.query(query);
        if (down) {
          down = false;
          logger.info('rate-limit store answers again: limits are shared between replicas again');
        }
        return result;
      } catch (error) {
        lastFailureMs = Date.now();
        if (!down) {
          down = true;
          logger.error({ reason: (error as Error).message }, 'rate-limit store unavailable: counting in memory, per replica, until it answers');
        }
        throw error;
      }
    },
  };
  return {
    limiter: (name, points, windowSeconds) =>
      new Promise((resolve, reject) => {
        const limiter: RateLimiterPostgres = new RateLimiterPostgres(
          {
            storeClient: client,
            storeType: 'pool',
            tableName: TABLE,
            keyPrefix: name,
            points,
            duration: windowSeconds,
            insuranceLimiter: new RateLimiterMemory({ keyPrefix: name, points, duration: windowSeconds }),
          },
          (error?: Error) => (error ? reject(new Error(`Cannot create the ${TABLE} table for RATE_LIMIT_STORE=postgres: ${error.message}`)) : resolve(limiter)),
        );
      }),
    close: () => pool.end(),
  };
}
