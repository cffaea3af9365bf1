import { viewerOf } from '../context.js';
import type { QueryResolvers } from '../generated/graphql.js';

export const viewerQueries: Pick<QueryResolvers, 'me'> = {
  me: (_parent, _args, ctx) => viewerOf(ctx),
};
