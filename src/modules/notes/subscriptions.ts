import { feedOf, viewerOf } from '../../context.js';
import type { ModuleRootFields, SubscriptionResolvers } from '../../generated/graphql.js';
import { EVERY_KEY } from '../../realtime/events.js';
import type { NotesContext } from './context.js';

// Only `subscribe`, no `resolve`: graphql-middleware wraps one of the two,
// and it must be `subscribe`, so that the shield decides before a
// subscription starts rather than on each of its events.
export const noteEventSubscriptions: Pick<SubscriptionResolvers<NotesContext>, ModuleRootFields['notes']['Subscription']> = {
  myNoteEvents: { subscribe: (_parent, _args, ctx) => feedOf(ctx).stream(ctx.noteEvents, viewerOf(ctx).id, 'myNoteEvents') },
  allNoteEvents: { subscribe: (_parent, _args, ctx) => feedOf(ctx).stream(ctx.noteEvents, EVERY_KEY, 'allNoteEvents') },
};
