import type { AuthError } from '../auth/errors.js';
import { userRemoved, userSuspended } from '../auth/errors.js';
import type { Viewer } from '../auth/viewer.js';
import type { Database } from '../db/database.js';
import type { Logger } from '../logger.js';

/** The NOTIFY channel on which a replica that applied a webhook event names the user; every replica reads the row again. */
export const LIFECYCLE_CHANNEL = 'user_lifecycle';

type Refused = Readonly<{ state: 'suspended' | 'removed'; untilMs: number }>;

export type UserStates = Readonly<{
  /** LISTENs, then loads every suspended or removed user: refusing from the first request. */
  start(): Promise<void>;
  /** The refusal for a user viewer that is suspended or removed; null for anyone else (services included). A map lookup. */
  refusal(viewer: Viewer): AuthError | null;
  /** True while nobody is refused: the request path can skip the lookup. */
  readonly empty: boolean;
  /** Reads one user's row again (after this replica committed a change, or another one said so). */
  reload(userId: string): Promise<void>;
  /** Called, on every replica, with a user whose lifecycle changed (suspended, re-enabled, removed, profile updated). */
  onChange(listener: (userId: string, refused: boolean) => void): void;
  /** How many users are refused right now (for the log and the bench). */
  readonly size: number;
  stop(): Promise<void>;
}>;

type Row = { userId: string; state: 'active' | 'suspended' | 'removed'; suspendedUntil: Date | null };

const MAX_USER_ID_LENGTH = 1000;

/**
 * Who Authgear's webhooks said is disabled or deleted, in memory on every
 * replica: loaded at start, kept current through LISTEN/NOTIFY, so that the
 * check on the request path is a map lookup that no cache can skip.
 */
export function createUserStates(deps: Readonly<{ database: Database; logger: Logger }>): UserStates {
  const { database, logger } = deps;
  const refused = new Map<string, Refused>();
  const listeners: ((userId: string, refused: boolean) => void)[] = [];
  let unlisten: (() => Promise<void>) | null = null;

  function remember(row: Row): void {
    if (row.state === 'active') refused.delete(row.userId);
    else refused.set(row.userId, { state: row.state, untilMs: row.state === 'suspended' && row.suspendedUntil !== null ? row.suspendedUntil.getTime() : Number.POSITIVE_INFINITY });
  }

  const SELECT = 'SELECT user_id AS "userId", state, suspended_until AS "suspendedUntil" FROM user_lifecycle';

  async function reload(userId: string): Promise<void> {
    const [row] = await database.query<Row>(`${SELECT} WHERE user_id = $1`, [userId]);
    remember(row ?? { userId, state: 'active', suspendedUntil: null });
    const isRefused = refused.has(userId);
    for (const listener of listeners) listener(userId, isRefused);
  }

  return {
    async start() {
      unlisten ??= await database.listen(LIFECYCLE_CHANNEL, (payload) => {
        // Anyone with database access can NOTIFY: the payload only says whose row to read again.
        if (payload === '' || payload.length > MAX_USER_ID_LENGTH) return;
        reload(payload).catch((error: unknown) => logger.error({ err: error }, 'cannot read a user\'s lifecycle state; retrying at the next event'));
      });
      for (const row of await database.query<Row>(`${SELECT} WHERE state <> 'active'`)) remember(row);
      if (refused.size > 0) logger.info({ refusedUsers: refused.size }, 'loaded disabled and deleted users');
    },
    refusal(viewer) {
      if (viewer.kind !== 'user') return null;
      const entry = refused.get(viewer.id);
      if (entry === undefined) return null;
      if (entry.state === 'removed') return userRemoved();
      return Date.now() < entry.untilMs ? userSuspended() : null;
    },
    get empty() {
      return refused.size === 0;
    },
    reload,
    onChange(listener) {
      listeners.push(listener);
    },
    get size() {
      return refused.size;
    },
    async stop() {
      const stopListening = unlisten;
      unlisten = null;
      await stopListening?.();
    },
  };
}
