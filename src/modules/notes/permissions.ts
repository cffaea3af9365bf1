import { allow, chain } from 'graphql-shield';
import type { ModuleRootFields } from '../../generated/graphql.js';
import type { ModuleOptions } from '../../module.js';
import type { Rule } from '../../permissions/index.js';
import { ADMIN_ROLE, hasRole, isRegistered, isVerified, reauthenticatedWithin } from '../../permissions/rules.js';
import { canReadNote, ownsNote, readsEveryonesNotes, readsNotes } from './rules.js';

/**
 * Who may use what, one line per field. Anything not listed is denied
 * (fallbackRule: deny), and the Record types make `npm run typecheck` fail
 * when a root field of this module has no line here.
 */
type Fields = ModuleRootFields['notes'];

export function notePermissions({ config }: ModuleOptions) {
  const Query: Record<Fields['Query'], Rule> = {
    myNotes: isRegistered, //              anonymous users have no notes to keep; services own none
    note: readsNotes, //                   users: scoped to the owner (admins: anyone), others' notes -> null; services: scope notes:read
    allNotes: readsEveryonesNotes, //      the moderation view: role admin, or a reporting service with scope notes:read
  };
  // Every mutation needs a signed-in user: services read, they never write.
  const Mutation: Record<Fields['Mutation'], Rule> = {
    createNote: isVerified, //             a verified identity stands behind every note
    updateNote: ownsNote, //               someone else's note -> NOT_FOUND, same as a missing one
    deleteNote: chain(ownsNote, reauthenticatedWithin(config.auth.reauthMaxAgeSeconds)), // destructive: recent sign-in
  };
  // Checked when a subscription starts; each event then passes the Note rule again for its subscriber.
  const Subscription: Record<Fields['Subscription'], Rule> = {
    myNoteEvents: isRegistered, //         your own notes, as myNotes; services cannot subscribe
    allNoteEvents: hasRole(ADMIN_ROLE), // the moderation view, live: role admin
  };
  return {
    Query,
    Mutation,
    Subscription,
    NoteConnection: allow, //              reachable only through myNotes and allNotes, already guarded
    NoteEdge: allow, //                    its node is a Note, which keeps its own rule
    NoteEvent: allow, //                   reachable only through Subscription, already guarded; its note keeps the Note rule
    Note: canReadNote, //                  owner, admin or a service with notes:read, whatever resolver returned it
  };
}
