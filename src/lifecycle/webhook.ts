import type { IncomingMessage, ServerResponse } from 'node:http';
import type { HeaderMap } from '@apollo/server';
import { GraphQLError } from 'graphql';
import type { Database, Queryable } from '../db/database.js';
import { readRawBody } from '../http/body.js';
import { sendError, sendJson } from '../http/respond.js';
import type { Logger } from '../logger.js';
import type { Metrics } from '../metrics.js';
import { KNOWN_TYPES, MalformedEvent, parseLifecycleEvent, type LifecycleEvent } from './event.js';
import { isSignedBy, SIGNATURE_HEADER } from './signature.js';
import { LIFECYCLE_CHANNEL, type UserStates } from './states.js';

export const WEBHOOK_PATH = '/webhooks/authgear';

export type Outcome = 'applied' | 'duplicate' | 'stale' | 'ignored' | 'refused';

/** Deletes what every module keeps for a user, inside the webhook's transaction; counts per module and table. */
export type EraseUser = (tx: Queryable, userId: string) => Promise<Readonly<Record<string, Readonly<Record<string, number>>>>>;

export type WebhookDeps = Readonly<{
  /** The "Webhook Signature" secret of the Authgear portal (Advanced > Hooks). */
  secret: string;
  database: Database;
  states: UserStates;
  eraseUser: EraseUser;
  bodyLimitBytes: number;
  metrics: Metrics | null;
  logger: Logger;
}>;

export type Webhook = Readonly<{ handle(req: IncomingMessage, res: ServerResponse, headers: HeaderMap, method: string): Promise<void> }>;

/**
 * POST /webhooks/authgear: Authgear's non-blocking events about users.
 * Checked in this order: method, size, signature (before the body is
 * parsed), shape. 200 means the change is committed: a disabled user is
 * refused, a deleted one refused and erased. Authgear sends each event
 * once, without retrying and possibly out of order: a repeated id changes
 * nothing, a status event older than the last one applied is stale, and
 * nothing lifts a removal.
 */
export function createWebhook(deps: WebhookDeps): Webhook {
  const { secret, database, states, metrics, logger } = deps;
  const count = (type: string, outcome: Outcome) => metrics?.webhookEvents.inc({ type: KNOWN_TYPES.has(type) ? type : 'other', outcome });

  async function apply(event: Exclude<LifecycleEvent, { type: 'other' }>): Promise<Outcome> {
    return database.transaction(async (tx) => {
      const fresh = await tx.query('INSERT INTO webhook_events (id, type) VALUES ($1, $2) ON CONFLICT (id) DO NOTHING RETURNING id', [event.id, event.type]);
      if (fresh.length === 0) return 'duplicate';
      switch (event.type) {
        case 'user.disabled':
        case 'user.reenabled': {
          const state = event.type === 'user.disabled' ? 'suspended' : 'active';
          const until = event.type === 'user.disabled' ? event.suspendedUntil : null;
          const changed = await tx.query(
            `INSERT INTO user_lifecycle (user_id, state, seq, suspended_until) VALUES ($1, $2, $3, $4)
             ON CONFLICT (user_id) DO UPDATE SET state = EXCLUDED.state, seq = EXCLUDED.seq, suspended_until = EXCLUDED.suspended_until, updated_at = now()
             WHERE user_lifecycle.state <> 'removed' AND user_lifecycle.seq < EXCLUDED.seq
             RETURNING user_id`,
            [event.userId, state, event.seq, until],
          );
          if (changed.length === 0) return 'stale';
          break;
        }
        case 'user.deleted':
        case 'user.anonymized': {
          await tx.query(
            `INSERT INTO user_lifecycle (user_id, state, seq) VALUES ($1, 'removed', $2)
             ON CONFLICT (user_id) DO UPDATE SET state = 'removed', seq = GREATEST(user_lifecycle.seq, EXCLUDED.seq), suspended_until = NULL, updated_at = now()`,
            [event.userId, event.seq],
          );
          const erased = await deps.eraseUser(tx, event.userId);
          // Counts only: the user id is Authgear's opaque id, never an e-mail or a name.
          logger.info({ userId: event.userId, event: event.type, erased }, 'erased a removed user\'s data');
          break;
        }
        case 'user.profile.updated':
          break;
      }
      await tx.query('SELECT pg_notify($1, $2)', [LIFECYCLE_CHANNEL, event.userId]);
      return 'applied';
    });
  }

  return {
    async handle(req, res, headers, method) {
      if (method !== 'POST') {
        sendError(res, 405, 'BAD_REQUEST', `${method} is not supported on ${WEBHOOK_PATH}; Authgear POSTs its events.`, { allow: 'POST' });
        return;
      }
      const body = await readRawBody(req, headers, deps.bodyLimitBytes);
      if (!isSignedBy(secret, body, headers.get(SIGNATURE_HEADER))) {
        count('other', 'refused');
        logger.warn({ bytes: body.length }, `webhook refused: missing or wrong ${SIGNATURE_HEADER} (check AUTHGEAR_WEBHOOK_SECRET)`);
        sendError(res, 401, 'UNAUTHENTICATED', `The ${SIGNATURE_HEADER} header is missing or does not sign this body with AUTHGEAR_WEBHOOK_SECRET.`);
        return;
      }
      let event: LifecycleEvent;
      try {
        event = parseLifecycleEvent(JSON.parse(body.toString('utf8')));
      } catch (error) {
        const message = error instanceof MalformedEvent ? error.message : 'The body is not JSON.';
        count('other', 'refused');
        sendError(res, 400, 'BAD_REQUEST', `Not an Authgear event: ${message}`);
        return;
      }
      if (event.type === 'other') {
        count(event.name, 'ignored');
        sendJson(res, 200, { outcome: 'ignored' });
        return;
      }
      let outcome: Outcome;
      try {
        outcome = await apply(event);
      } catch (error) {
        if (!(error instanceof GraphQLError && error.extensions['code'] === 'SERVICE_UNAVAILABLE')) throw error;
        sendError(res, 503, 'SERVICE_UNAVAILABLE', 'The database is unavailable: the event was not applied.', { 'retry-after': '5' });
        return;
      }
      // This replica refuses at once; the others when the NOTIFY reaches them.
      if (outcome === 'applied') {
        await states.reload(event.userId).catch((error: unknown) => logger.warn({ err: error }, 'cannot read the applied lifecycle state back; the NOTIFY will'));
      }
      count(event.type, outcome);
      logger.info({ eventId: event.id, event: event.type, userId: event.userId, outcome }, 'webhook event');
      sendJson(res, 200, { outcome });
    },
  };
}
