import { serviceUnavailable } from '../errors.js';
import type { Logger } from '../logger.js';
import { DatabaseUnavailableError, type Database } from './database.js';

export type Availability = Readonly<{
  /** The database as resolvers and rules use it: an unavailable database answers SERVICE_UNAVAILABLE. */
  guard(db: Database): Database;
  /** A connection failed outside any query (an idle pool connection dropped). */
  lost(error: Error): void;
}>;

/**
 * The one place a database outage becomes an answer: every field that needs
 * the database gets SERVICE_UNAVAILABLE with `retryable: true` (not a masked
 * INTERNAL_SERVER_ERROR), and the outage is logged when it starts and when it
 * ends, not once per request.
 *
 * Only a query that started after the last change of state may change it
 * again: one that was already in flight when the outage began (or ended)
 * proves nothing about the database now, and would make the log flap.
 */
export function createAvailability(logger: Logger): Availability {
  let down = false;
  let epoch = 0;

  function failed(error: unknown, startedIn: number): void {
    if (down || startedIn !== epoch) return;
    down = true;
    epoch++;
    const cause = error instanceof DatabaseUnavailableError ? error.cause : error;
    logger.error({ reason: (cause as Error).message, code: (cause as { code?: unknown }).code }, 'database unavailable: answering SERVICE_UNAVAILABLE until it answers again');
  }

  function answered(startedIn: number): void {
    if (!down || startedIn !== epoch) return;
    down = false;
    epoch++;
    logger.info('database answers again');
  }

  async function observed<T>(work: () => Promise<T>): Promise<T> {
    const startedIn = epoch;
    let result: T;
    try {
      result = await work();
    } catch (error) {
      if (!(error instanceof DatabaseUnavailableError)) throw error;
      failed(error, startedIn);
      throw serviceUnavailable('The database is unavailable right now; retry in a moment.');
    }
    answered(startedIn);
    return result;
  }

  return {
    guard: (db) => ({
      kind: db.kind,
      query: (sql, params) => observed(() => db.query(sql, params)),
      transaction: (work) => observed(() => db.transaction(work)),
      listen: (channel, onPayload) => db.listen(channel, onPayload),
      notify: (channel, payload) => observed(() => db.notify(channel, payload)),
      close: () => db.close(),
    }),
    lost: (error) => failed(error, epoch),
  };
}
