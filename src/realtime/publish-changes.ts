import type { NoteRepository } from '../db/notes.js';
import type { NoteEvents } from './note-events.js';

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
