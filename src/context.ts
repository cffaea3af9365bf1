import type { Offered } from './auth/credentials.js';
import type { Profile } from './auth/profile.js';
import type { Profiles } from './auth/profiles.js';
import type { Viewer } from './auth/viewer.js';
import { coded } from './errors.js';
import type { Standing } from './limits/budget.js';
import type { Feed } from './realtime/feed.js';

/**
 * What every resolver and rule receives from the machinery. Each module's
 * services (src/modules/) are added to it, and a module's resolvers are
 * typed with this plus the services they use.
 */
export type BaseContext = {
  /** null for a guest (no Authorization header); an invalid token never gets this far. */
  readonly viewer: Viewer | null;
  readonly requestId: string;
  /** Who the client is, behind any trusted proxies: a guest's rate-limit key. */
  readonly clientAddress: string;
  /** Where this operation left the viewer's budget; set by the limits before execution, null when they are off. */
  rateLimit?: Standing | null;
  /** The viewer's profile (token claims, then UserInfo): see src/auth/profiles.ts. */
  readonly profiles: Profiles;
  /** What the request authenticated with: UserInfo is called with its access token. Never log it. */
  readonly credential?: Offered;
  /** This operation's UserInfo answer once asked (profiles.ts): one call per operation. */
  profileFromIssuer?: Promise<Profile>;
  /** The events a subscription reads, bounded by its connection; only on WebSocket connections. */
  readonly feed?: Feed;
};

/** For resolvers behind a rule that already refused guests. */
export function viewerOf(ctx: BaseContext): Viewer {
  if (ctx.viewer === null) throw new Error('A guarded resolver ran without a viewer: check the permissions map.');
  return ctx.viewer;
}

/** The event feed of a subscription's connection; over HTTP there is none. */
export function feedOf(ctx: BaseContext): Feed {
  if (ctx.feed === undefined) {
    throw coded('Subscriptions are served over WebSocket (graphql-transport-ws) at this same URL, not over HTTP.', 'BAD_REQUEST');
  }
  return ctx.feed;
}
