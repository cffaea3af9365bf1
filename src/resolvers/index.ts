import type { Resolvers, ServerInfo } from '../generated/graphql.js';
import { noteEventSubscriptions } from './note-events.js';
import { noteMutations, noteQueries } from './notes.js';
import { DateTime } from './scalars.js';
import { serverInfoQueries } from './server-info.js';
import { Viewer, viewerQueries } from './viewer.js';

export function createResolvers(serverInfo: ServerInfo): Resolvers {
  return {
    DateTime,
    Query: { ...serverInfoQueries(serverInfo), ...viewerQueries, ...noteQueries },
    Mutation: noteMutations,
    Subscription: noteEventSubscriptions,
    Viewer,
  };
}
