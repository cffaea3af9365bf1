import { PGlite, type Transaction } from '@electric-sql/pglite';
import type { Database, Queryable } from './database.js';

const queryable = (db: PGlite | Transaction): Queryable => ({
  async query<Row extends object>(sql: string, params: readonly unknown[] = []) {
    return (await db.query<Row>(sql, [...params])).rows;
  },
});

/** Embedded Postgres (WASM): in memory, or persisted in `dataDir` when given. */
export async function openPglite(dataDir: string | null): Promise<Database> {
  const db = dataDir === null ? new PGlite() : new PGlite(dataDir);
  await db.waitReady;
  return {
    kind: 'pglite',
    ...queryable(db),
    transaction: (work) => db.transaction((tx) => work(queryable(tx))),
    async listen(channel, onPayload) {
      const stop = await db.listen(channel, onPayload);
      return async () => {
        if (!db.closed) await stop();
      };
    },
    async notify(channel, payload) {
      await db.query('SELECT pg_notify($1, $2)', [channel, payload]);
    },
    close: () => db.close(),
  };
}
