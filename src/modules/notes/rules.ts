import { rule } from 'graphql-shield';
import type { Viewer } from '../../auth/viewer.js';
import { forbidden, notFound, unauthenticated } from '../../errors.js';
import { ADMIN_ROLE, synchronousRule, userNeeded, viewerRule } from '../../permissions/rules.js';
import type { NotesContext } from './context.js';
import type { NoteRecord, NoteScope } from './repository.js';

/** The scope a service needs to read every user's notes. */
export const NOTES_READ_SCOPE = 'notes:read';

/** Role admin, or a service with scope notes:read: the only callers that see every user's notes. */
const seesEveryonesNotes = (viewer: Viewer): boolean =>
  viewer.kind === 'user' ? viewer.roles.includes(ADMIN_ROLE) : viewer.scopes.includes(NOTES_READ_SCOPE);

export const readsEveryonesNotes = viewerRule('readsEveryonesNotes', (viewer) =>
  seesEveryonesNotes(viewer) ? true : forbidden(`This needs the Authgear role ${ADMIN_ROLE}, or a service token with scope ${NOTES_READ_SCOPE}.`),
);

/** Users read notes within their scope (their own; admins: all); services need notes:read. */
export const readsNotes = viewerRule(
  'readsNotes',
  (viewer) => viewer.kind === 'user' || seesEveryonesNotes(viewer) || forbidden(`This needs a service token with scope ${NOTES_READ_SCOPE}.`),
);

/** For mutations taking a note `id`: someone else's note looks exactly like a missing one. */
export const ownsNote = rule('ownsNote')(async (_parent, args: { id: string }, ctx: NotesContext) => {
  const { viewer } = ctx;
  if (viewer === null) return unauthenticated();
  if (viewer.kind !== 'user') return userNeeded();
  let ownerId: string | null;
  try {
    ownerId = await ctx.notes.ownerOf(args.id);
  } catch (error) {
    // Returned, not thrown: shield turns a thrown error into a denial, and a
    // database outage must not read as FORBIDDEN.
    return error as Error;
  }
  return ownerId === viewer.id ? true : notFound(`You have no note with id ${JSON.stringify(args.id)}.`);
});

/**
 * On the Note type itself: a note reaches a response only for its owner, an
 * admin or a service with notes:read, whichever resolver produced it.
 */
export const canReadNote = synchronousRule<NoteRecord>('canReadNote', (note, _args, ctx, info) => {
  const { viewer } = ctx;
  if (viewer === null) return unauthenticated();
  if ((viewer.kind === 'user' && note.ownerId === viewer.id) || seesEveryonesNotes(viewer)) return true;
  return forbidden(`Note.${info.fieldName} belongs to another user.`);
});

/** The only place a viewer is granted every user's notes. */
export function noteScopeFor(viewer: Viewer): NoteScope {
  return seesEveryonesNotes(viewer) ? 'everyone' : { ownerId: viewer.id };
}
