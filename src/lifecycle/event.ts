/**
 * The body of an Authgear webhook call (Authgear's event: id, seq, type,
 * payload, context), as far as this API acts on it. Read only after the
 * signature held, and still believed only when it looks exactly right.
 */
export type LifecycleEvent =
  | Readonly<{ id: string; type: 'user.disabled'; userId: string; seq: number; suspendedUntil: Date | null }>
  | Readonly<{ id: string; type: 'user.reenabled'; userId: string; seq: number }>
  | Readonly<{ id: string; type: 'user.deleted' | 'user.anonymized'; userId: string; seq: number }>
  | Readonly<{ id: string; type: 'user.profile.updated'; userId: string }>
  | Readonly<{ id: string; type: 'other'; name: string }>;

/** The event types this API acts on; the label of webhook_events_total for any other is "other". */
export const KNOWN_TYPES: ReadonlySet<string> = new Set(['user.disabled', 'user.reenabled', 'user.deleted', 'user.anonymized', 'user.profile.updated']);

export class MalformedEvent extends Error {
  override name = 'MalformedEvent';
}

const MAX_TEXT = 1000;
const text = (value: unknown): value is string => typeof value === 'string' && value !== '' && value.length <= MAX_TEXT;
const object = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

/** Throws MalformedEvent, naming what is wrong, for anything that is not such an event. */
export function parseLifecycleEvent(body: unknown): LifecycleEvent {
  if (!object(body)) throw new MalformedEvent('The body is not a JSON object.');
  const { id, type, seq, payload } = body;
  if (!text(id)) throw new MalformedEvent('The event has no id (a string).');
  if (!text(type)) throw new MalformedEvent('The event has no type (a string).');
  if (!KNOWN_TYPES.has(type)) return { id, type: 'other', name: type };
  const user = object(payload) ? payload['user'] : undefined;
  const userId = object(user) ? user['id'] : undefined;
  if (!text(userId)) throw new MalformedEvent(`A ${type} event names its user at payload.user.id (a string).`);
  const integerSeq = typeof seq === 'number' && Number.isSafeInteger(seq) && seq >= 0 ? seq : null;
  switch (type) {
    case 'user.disabled':
    case 'user.reenabled': {
      if (integerSeq === null) throw new MalformedEvent(`A ${type} event needs seq, a non-negative integer: it orders status changes.`);
      if (type === 'user.reenabled') return { id, type, userId, seq: integerSeq };
      const until = (payload as Record<string, unknown>)['temporarily_disabled_until'];
      const suspendedUntil = typeof until === 'string' && !Number.isNaN(Date.parse(until)) ? new Date(until) : null;
      return { id, type, userId, seq: integerSeq, suspendedUntil };
    }
    case 'user.deleted':
    case 'user.anonymized':
      return { id, type, userId, seq: integerSeq ?? 0 };
    default:
      return { id, type: 'user.profile.updated', userId };
  }
}
