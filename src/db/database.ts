/**
 * The one query interface the app uses. PGlite (embedded) and pg (a server)
 * both implement it with the same SQL, so nothing above this layer knows
 * which one is running.
 */
export interface Queryable {
  query<Row extends object>(sql: string, params?: readonly unknown[]): Promise<Row[]>;
}

export interface Database extends Queryable {
  readonly kind: 'pglite' | 'postgres';
  /** Runs `work` in one transaction: committed when it resolves, rolled back when it throws. */
  transaction<T>(work: (tx: Queryable) => Promise<T>): Promise<T>;
  /**
   * Postgres LISTEN: calls `onPayload` with every NOTIFY payload sent to
   * `channel` (a plain identifier), from this process or any other on the
   * same database. Resolves once listening, to a function that stops.
   */
  listen(channel: string, onPayload: (payload: string) => void): Promise<() => Promise<void>>;
  /** Postgres NOTIFY; delivered to every listener once the sending transaction commits. */
  notify(channel: string, payload: string): Promise<void>;
  close(): Promise<void>;
}
