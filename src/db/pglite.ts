import { PGlite, type Transaction } from '@electric-sql/pglite';
import { DatabaseUnavailableError, isUnavailableSqlState, type Database, type Queryable } from './database.js';

/** Embedded Postgres (WASM): in memory, or persisted in `dataDir` when given. */
export async function openPglite(dataDir: string | null): Promise<Database> {
  const db = dataDir === null ? new PGlite() : new PGlite(dataDir);
  await db.waitReady;

  // In-process, PGlite cannot be unreachable; it fails as a whole (closed)
  // or for want of resources (out of disk or memory).
  const unavailable = (error: unknown): boolean => db.closed || isUnavailableSqlState((error as { code?: unknown }).code);
  async function guarded<T>(work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (error) {
      throw unavailable(error) ? new DatabaseUnavailableError(error) : error;
    }
  }
  const queryable = (target: PGlite | Transaction): Queryable => ({
    async query<Row extends object>(sql: string, params: readonly unknown[] = []) {
      return (await target.query<Row>(sql, [...params])).rows;
    },
  });

  return {
    kind: 'pglite',
    query: (sql, params) => guarded(() => queryable(db).query(sql, params)),
    transaction: (work) => guarded(() => db.transaction((tx) => work(queryable(tx)))),
    async listen(channel, onPayload) {
      const stop = await db.listen(channel, onPayload);
      return async () => {
        if (!db.closed) await stop();
      };
    },
    notify: (channel, payload) => guarded(async () => void (await db.query('SELECT pg_notify($1, $2)', [channel, payload]))),
    close: () => db.close(),
  };
}
