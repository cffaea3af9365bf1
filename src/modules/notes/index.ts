import { defineModule } from '../../module.js';
import { readSchemaFile } from '../../type-defs.js';
import { declareNoteEvents, encodeNoteChange, NOTE_EVENTS_CHANNEL, publishingChanges } from './events.js';
import { MIGRATIONS } from './migrations.js';
import { notePermissions } from './permissions.js';
import { createNoteRepository } from './repository.js';
import { noteMutations, noteQueries } from './resolvers.js';
import { noteEventSubscriptions } from './subscriptions.js';

/**
 * The example domain: each user's notes, with CRUD, ownership, a Relay
 * connection, live events and erasure. Copy this folder to start your own
 * type (README: "Add your own type").
 */
export const notesModule = defineModule({
  name: 'notes',
  typeDefs: readSchemaFile('notes.graphql'),
  examples: `# Run this one too, then create, update or delete a note (here or with curl):
# the events arrive over WebSocket, authenticated with the same header.
subscription MyNoteEvents {
  myNoteEvents {
    kind
    noteId
    note {
      title
      updatedAt
    }
  }
}`,
  models: { Note: './repository.js#NoteRecord', NoteEvent: './events.js#NoteEvent' },
  migrations: MIGRATIONS,
  setup({ database, events }) {
    const stored = createNoteRepository(database);
    const noteEvents = declareNoteEvents(events, stored);
    return { notes: publishingChanges(stored, noteEvents), noteEvents };
  },
  resolvers: () => ({ Query: noteQueries, Mutation: noteMutations, Subscription: noteEventSubscriptions }),
  permissions: notePermissions,
  async eraseUser(tx, userId) {
    const rows = await tx.query<{ id: string }>('DELETE FROM notes WHERE owner_id = $1 RETURNING id', [userId]);
    // Subscribers (admins) hear of each erased note once the erasure commits, as of any deletion.
    const payloads = rows.map(({ id }) => encodeNoteChange({ kind: 'DELETED', noteId: id, ownerId: userId }));
    if (payloads.length > 0) await tx.query('SELECT pg_notify($1, payload) FROM unnest($2::text[]) AS payload', [NOTE_EVENTS_CHANNEL, payloads]);
    return { notes: rows.length };
  },
});
