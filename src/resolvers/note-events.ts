import type { Context } from '../context.js';
import { viewerOf } from '../context.js';
import { coded } from '../errors.js';
import type { SubscriptionResolvers } from '../generated/graphql.js';
import type { NoteEventFeed } from '../realtime/note-feed.js';

function feedOf(ctx: Context): NoteEventFeed {
  if (ctx.noteEvents === undefined) {
    throw coded('Subscriptions are served over WebSocket (graphql-transport-ws) at this same URL, not over HTTP.', 'BAD_REQUEST');
  }
  return ctx.noteEvents;
}

// Only `subscribe`, no `resolve`: graphql-middleware wraps one of the two,
// and it must be `subscribe`, so that the shield decides before a
// subscription starts rather than on each of its events.
export const noteEventSubscriptions: SubscriptionResolvers = {
  myNoteEvents: { subscribe: (_parent, _args, ctx) => feedOf(ctx).stream({ ownerId: viewerOf(ctx).id }, 'myNoteEvents') },
  allNoteEvents: { subscribe: (_parent, _args, ctx) => feedOf(ctx).stream('everyone', 'allNoteEvents') },
};
