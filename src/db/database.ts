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

/**
 * What a query rejects with when the database cannot answer at all
 * (unreachable, connection lost, shutting down, out of resources), as
 * opposed to an error of the statement itself. Each adapter sorts its
 * driver's errors into this one; the driver's error is the cause.
 */
export class DatabaseUnavailableError extends Error {
  constructor(cause: unknown) {
    super(`database unavailable: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
    this.name = 'DatabaseUnavailableError';
  }
}

/**
 * SQLSTATEs a server answers with when it cannot serve anyone right now,
 * rather than because of the statement: connection exceptions (class 08),
 * insufficient resources (class 53: too many connections, disk full, out of
 * memory), and shutdown or recovery (57P01-57P03).
 */
export function isUnavailableSqlState(code: unknown): boolean {
  return typeof code === 'string' && (code.startsWith('08') || code.startsWith('53') || ['57P01', '57P02', '57P03'].includes(code));
}
