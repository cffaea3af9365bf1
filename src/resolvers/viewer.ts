import { viewerOf } from '../context.js';
import type { QueryResolvers, ViewerResolvers } from '../generated/graphql.js';
import { viewerProfile } from './profile.js';

export const viewerQueries: Pick<QueryResolvers, 'me'> = {
  me: (_parent, _args, ctx) => viewerOf(ctx),
};

const NONE: readonly string[] = Object.freeze([]);
// graphql-js only reads a list it serialises; the generated types just don't say readonly.
const list = (items: readonly string[]) => items as string[];

/** One GraphQL shape for both kinds: a service answers the user fields with "none". */
export const Viewer: ViewerResolvers = {
  kind: (viewer) => (viewer.kind === 'user' ? 'USER' : 'SERVICE'),
  roles: (viewer) => list(viewer.kind === 'user' ? viewer.roles : NONE),
  scopes: (viewer) => list(viewer.kind === 'service' ? viewer.scopes : NONE),
  isVerified: (viewer) => viewer.kind === 'user' && viewer.isVerified,
  isAnonymous: (viewer) => viewer.kind === 'user' && viewer.isAnonymous,
  authenticatedAt: (viewer) => (viewer.kind === 'user' ? viewer.authenticatedAt : null),
  profile: viewerProfile,
};
