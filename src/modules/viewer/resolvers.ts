import { viewerOf } from '../../context.js';
import type { ModuleRootFields, QueryResolvers, ServerInfo, ViewerResolvers } from '../../generated/graphql.js';
import { viewerProfile } from './profile.js';

/** me, serverInfo and rateLimit: the caller, the server, and the caller's budget. */
export function viewerQueries(info: ServerInfo): Pick<QueryResolvers, ModuleRootFields['viewer']['Query']> {
  const frozen = Object.freeze({ ...info });
  return {
    me: (_parent, _args, ctx) => viewerOf(ctx),
    serverInfo: () => frozen,
    rateLimit: (_parent, _args, ctx) => ctx.rateLimit ?? null,
  };
}

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
