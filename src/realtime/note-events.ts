import type { Database } from '../db/database.js';
import type { NoteRecord, NoteRepository, NoteScope } from '../db/notes.js';
import type { Logger } from '../logger.js';

export type NoteEventKind = 'CREATED' | 'UPDATED' | 'DELETED';

/** What travels between replicas: ids only, far below NOTIFY's 8000 bytes. */
export type NoteChange = Readonly<{ kind: NoteEventKind; noteId: string; ownerId: string }>;

/** One event as subscribers receive it; the Note rule still decides, per subscriber, what of `note` they see. */
export type NoteEvent = Readonly<{ kind: NoteEventKind; noteId: string; note: NoteRecord | null }>;

/** Takes one event; `bytes` estimates what sending it costs, for the slow-consumer bound. */
export type NoteEventSink = (event: NoteEvent, bytes: number) => void;

export type NoteEvents = Readonly<{
  /** LISTENs; events published before it resolves are not seen by this process. */
  start(): Promise<void>;
  /** NOTIFYs every replica. Never rejects: the change is already stored, a lost event is logged. */
  publish(change: NoteChange): Promise<void>;
  /** Until the returned function is called, `sink` gets every event in `scope`. */
  subscribe(scope: NoteScope, sink: NoteEventSink): () => void;
  stop(): Promise<void>;
}>;

export const NOTE_EVENTS_CHANNEL = 'note_events';

const KINDS: ReadonlySet<string> = new Set<NoteEventKind>(['CREATED', 'UPDATED', 'DELETED']);
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const MAX_PAYLOAD_BYTES = 7999;
// Field names and JSON punctuation of one `next` message around the note's own text.
const ENVELOPE_BYTES = 256;

function encode(change: NoteChange): string {
  return JSON.stringify({ k: change.kind, id: change.noteId, o: change.ownerId });
}

/** Anyone with database access can NOTIFY this channel: nothing is believed that does not look exactly right. */
function decode(payload: string): NoteChange | null {
  let parsed: unknown;
  try {
    parsed = JSON.parse(payload);
  } catch {
    return null;
  }
  const { k, id, o } = (parsed ?? {}) as Record<string, unknown>;
  if (typeof k !== 'string' || !KINDS.has(k) || typeof id !== 'string' || !UUID.test(id) || typeof o !== 'string' || o === '') return null;
  return { kind: k as NoteEventKind, noteId: id.toLowerCase(), ownerId: o };
}

const weigh = (note: NoteRecord | null): number =>
  note === null ? ENVELOPE_BYTES : ENVELOPE_BYTES + Buffer.byteLength(note.title) + Buffer.byteLength(note.body);

/**
 * Note changes over Postgres LISTEN/NOTIFY, so a mutation on any replica
 * reaches subscribers on all of them. One LISTEN per process; each event is
 * fanned out in-process to the subscribers of its owner and to those of
 * everyone's notes (admins), and a created or updated note is read once per
 * event, not once per subscriber. Events are delivered in the order they
 * were notified, even when their reads finish out of order.
 */
export function createNoteEvents(deps: { database: Database; notes: NoteRepository; logger: Logger }): NoteEvents {
  const { database, notes, logger } = deps;
  const byOwner = new Map<string, Set<NoteEventSink>>();
  const everyone = new Set<NoteEventSink>();
  let unlisten: (() => Promise<void>) | null = null;
  let delivered: Promise<void> = Promise.resolve();

  function sinksOf(ownerId: string): Set<NoteEventSink> {
    let sinks = byOwner.get(ownerId);
    if (sinks === undefined) {
      sinks = new Set();
      byOwner.set(ownerId, sinks);
    }
    return sinks;
  }

  function deliver(change: NoteChange, note: NoteRecord | null): void {
    // A note gone by the time it is read was deleted just after: its DELETED event follows.
    if (change.kind !== 'DELETED' && note === null) return;
    const event: NoteEvent = { kind: change.kind, noteId: change.noteId, note };
    const bytes = weigh(note);
    for (const sink of byOwner.get(change.ownerId) ?? []) sink(event, bytes);
    for (const sink of everyone) sink(event, bytes);
  }

  function received(payload: string): void {
    const change = decode(payload);
    if (change === null) {
      logger.warn({ channel: NOTE_EVENTS_CHANNEL, bytes: payload.length }, 'ignored a malformed note event');
      return;
    }
    if (everyone.size === 0 && !byOwner.has(change.ownerId)) return;
    // The read starts now; its outcome is settled at once so that a failure is never an unhandled rejection.
    // The scope is `everyone` because no viewer asks here: each subscriber's Note rule decides what it sees.
    const reading =
      change.kind === 'DELETED'
        ? Promise.resolve({ note: null })
        : notes.find('everyone', change.noteId).then(
            (note) => ({ note }),
            (error: unknown) => ({ error }),
          );
    delivered = delivered.then(async () => {
      const outcome: { note: NoteRecord | null } | { error: unknown } = await reading;
      if ('error' in outcome) logger.error({ err: outcome.error, noteId: change.noteId }, 'cannot read the note of an event; subscribers miss it');
      else deliver(change, outcome.note);
    });
  }

  return {
    async start() {
      unlisten ??= await database.listen(NOTE_EVENTS_CHANNEL, received);
    },
    async publish(change) {
      const payload = encode(change);
      if (Buffer.byteLength(payload) > MAX_PAYLOAD_BYTES) {
        logger.error({ noteId: change.noteId }, 'note event too large to NOTIFY (an owner id of several KiB?); subscribers miss it');
        return;
      }
      try {
        await database.notify(NOTE_EVENTS_CHANNEL, payload);
      } catch (error) {
        logger.error({ err: error, noteId: change.noteId }, 'cannot NOTIFY a note event; subscribers miss it');
      }
    },
    subscribe(scope, sink) {
      const sinks = scope === 'everyone' ? everyone : sinksOf(scope.ownerId);
      sinks.add(sink);
      return () => {
        sinks.delete(sink);
        if (scope !== 'everyone' && sinks.size === 0 && byOwner.get(scope.ownerId) === sinks) byOwner.delete(scope.ownerId);
      };
    },
    async stop() {
      const stopListening = unlisten;
      unlisten = null;
      await stopListening?.();
      await delivered;
    },
  };
}
