import { viewerOf } from '../../context.js';
import { pageRequest } from '../../db/pagination.js';
import { storableText } from '../../db/storable.js';
import { notFound } from '../../errors.js';
import type { ModuleRootFields, MutationResolvers, QueryResolvers } from '../../generated/graphql.js';
import type { NotesContext } from './context.js';
import { validateCreateNote, validateUpdateNote } from './input.js';
import { noteScopeFor } from './rules.js';

type Fields = ModuleRootFields['notes'];

export const noteQueries: Pick<QueryResolvers<NotesContext>, Fields['Query']> = {
  myNotes: (_parent, args, ctx) => ctx.notes.page({ ownerId: viewerOf(ctx).id }, pageRequest(args)),
  note: (_parent, { id }, ctx) => ctx.notes.find(noteScopeFor(viewerOf(ctx)), id),
  allNotes: (_parent, { ownerId, ...args }, ctx) => ctx.notes.page(noteScopeFor(viewerOf(ctx)), pageRequest(args), storableText(ownerId ?? null, 'ownerId')),
};

// The ownsNote rule has checked ownership already; the owner-scoped SQL
// below is the second lock on the same door (and covers a concurrent delete).
const gone = (id: string) => notFound(`You have no note with id ${JSON.stringify(id)}.`);

export const noteMutations: Pick<MutationResolvers<NotesContext>, Fields['Mutation']> = {
  createNote: (_parent, { input }, ctx) => ctx.notes.create(viewerOf(ctx).id, validateCreateNote(input)),
  updateNote: async (_parent, { id, input }, ctx) => {
    const note = await ctx.notes.update(viewerOf(ctx).id, id, validateUpdateNote(input));
    if (note === null) throw gone(id);
    return note;
  },
  deleteNote: async (_parent, { id }, ctx) => {
    if (!(await ctx.notes.delete(viewerOf(ctx).id, id))) throw gone(id);
    return true;
  },
};
