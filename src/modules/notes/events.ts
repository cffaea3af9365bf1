import type { DeclaredTopic, EventBus, Topic } from '../../realtime/events.js';
import type { NoteRecord, NoteRepository } from './repository.js';

export type NoteEventKind = 'CREATED' | 'UPDATED' | 'DELETED';

/** What travels between replicas: ids only, far below NOTIFY's 8000 bytes. */
export type NoteChange = Readonly<{ kind: NoteEventKind; noteId: string; ownerId: string }>;

/** One event as subscribers receive it; the Note rule still decides, per subscriber, what of `note` they see. */
export type NoteEvent = Readonly<{ kind: NoteEventKind; noteId: string; note: NoteRecord | null }>;

export type NoteEvents = DeclaredTopic<NoteChange, NoteEvent>;

export const NOTE_EVENTS_CHANNEL = 'note_events';

const KINDS: ReadonlySet<string> = new Set<NoteEventKind>(['CREATED', 'UPDATED', 'DELETED']);
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
// Field names and JSON punctuation of one `next` message around the note's own text.
const ENVELOPE_BYTES = 256;

export const encodeNoteChange = (change: NoteChange): string => JSON.stringify({ k: change.kind, id: change.noteId, o: change.ownerId });

/**
 * Note changes, fanned out by owner: a subscriber of one owner's notes gets
 * theirs, admins get everyone's. A created or updated note is read once per
 * event (in the `everyone` scope: each subscriber's Note rule decides what
 * it sees); one gone by the time it is read was deleted just after, and its
 * DELETED event follows.
 */
export function noteTopic(notes: Pick<NoteRepository, 'find'>): Topic<NoteChange, NoteEvent> {
  return {
    name: 'note',
    channel: NOTE_EVENTS_CHANNEL,
    encode: encodeNoteChange,
    decode(payload) {
      let parsed: unknown;
      try {
        parsed = JSON.parse(payload);
      } catch {
        return null;
      }
      const { k, id, o } = (parsed ?? {}) as Record<string, unknown>;
      if (typeof k !== 'string' || !KINDS.has(k) || typeof id !== 'string' || !UUID.test(id) || typeof o !== 'string' || o === '') return null;
      return { kind: k as NoteEventKind, noteId: id.toLowerCase(), ownerId: o };
    },
    keyOf: (change) => change.ownerId,
    load(change) {
      if (change.kind === 'DELETED') return { kind: change.kind, noteId: change.noteId, note: null };
      return notes.find('everyone', change.noteId).then((note) => (note === null ? null : { kind: change.kind, noteId: change.noteId, note }));
    },
    weigh: ({ note }) => (note === null ? ENVELOPE_BYTES : ENVELOPE_BYTES + Buffer.byteLength(note.title) + Buffer.byteLength(note.body)),
  };
}

/** Declares the note topic on `bus`. */
export function declareNoteEvents(bus: EventBus, notes: Pick<NoteRepository, 'find'>): NoteEvents {
  return bus.declare(noteTopic(notes));
}

/**
 * The notes repository, announcing every successful write as a note event.
 * Here rather than in each resolver, so that no code path that writes a
 * note can forget to; the event is sent before the write's caller hears of
 * it, so a client that reacts to its own mutation never overtakes the event.
 */
export function publishingChanges(notes: NoteRepository, events: NoteEvents): NoteRepository {
  return {
    ...notes,
    async create(ownerId, input) {
      const note = await notes.create(ownerId, input);
      await events.publish({ kind: 'CREATED', noteId: note.id, ownerId: note.ownerId });
      return note;
    },
    async update(ownerId, id, patch) {
      const note = await notes.update(ownerId, id, patch);
      if (note !== null) await events.publish({ kind: 'UPDATED', noteId: note.id, ownerId: note.ownerId });
      return note;
    },
    async delete(ownerId, id) {
      const deleted = await notes.delete(ownerId, id);
      if (deleted) await events.publish({ kind: 'DELETED', noteId: id.toLowerCase(), ownerId });
      return deleted;
    },
  };
}
