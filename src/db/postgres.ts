import pg from 'pg';
import { DatabaseUnavailableError, isUnavailableSqlState, type Database, type Queryable } from './database.js';
import { createPgListener } from './pg-listener.js';

const queryable = (client: pg.PoolClient): Queryable => ({
  async query<Row extends object>(sql: string, params: readonly unknown[] = []) {
    return (await client.query<Row>(sql, [...params])).rows;
  },
});

/** A PostgreSQL server through a pg connection pool. */
export async function openPostgres(url: string, onIdleError: (error: Error) => void): Promise<Database> {
  const pool = new pg.Pool({
    connectionString: url,
    max: 10,
    connectionTimeoutMillis: 5000,
    idleTimeoutMillis: 30_000,
  });
  // Without a listener, a dropped idle connection would crash the process.
  pool.on('error', onIdleError);
  try {
    await pool.query('SELECT 1');
  } catch (error) {
    await pool.end();
    throw new Error(`Cannot connect to DATABASE_URL: ${(error as Error).message}`, { cause: error });
  }

  /**
   * Runs `work` on a connection of its own. No connection to be had, or the
   * connection failing under the work, means the database is unavailable.
   * pg tells a lost connection only by message ("Connection terminated
   * unexpectedly", with no code), so the client's 'error' event is the
   * signal, not the text.
   */
  async function withClient<T>(work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    let client: pg.PoolClient;
    try {
      client = await pool.connect();
    } catch (error) {
      throw new DatabaseUnavailableError(error);
    }
    const connection: { lost: Error | null } = { lost: null };
    // The pool listens only to idle clients: without this, a connection lost
    // while checked out (mid-transaction) would be an uncaught 'error' event.
    const onError = (error: Error) => (connection.lost = error);
    client.on('error', onError);
    try {
      return await work(client);
    } catch (error) {
      throw connection.lost !== null || isUnavailableSqlState((error as { code?: unknown }).code) ? new DatabaseUnavailableError(error) : error;
    } finally {
      client.off('error', onError);
      // Given an error, the pool discards the connection instead of reusing it.
      client.release(connection.lost ?? undefined);
    }
  }

  const listener = createPgListener(url, (error, retryInMs) =>
    onIdleError(new Error(`The LISTEN connection failed (${error.message}); reopening it in ${retryInMs} ms`, { cause: error })),
  );
  return {
    kind: 'postgres',
    query: (sql, params) => withClient((client) => queryable(client).query(sql, params)),
    transaction: (work) =>
      withClient(async (client) => {
        await client.query('BEGIN');
        try {
          const result = await work(queryable(client));
          await client.query('COMMIT');
          return result;
        } catch (error) {
          await client.query('ROLLBACK').catch(() => undefined);
          throw error;
        }
      }),
    listen: (channel, onPayload) => listener.listen(channel, onPayload),
    notify: (channel, payload) => withClient(async (client) => void (await client.query('SELECT pg_notify($1, $2)', [channel, payload]))),
    async close() {
      await listener.close();
      await pool.end();
    },
  };
}
