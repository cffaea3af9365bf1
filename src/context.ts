import type { Offered } from './auth/credentials.js';
import type { Profile } from './auth/profile.js';
import type { Profiles } from './auth/profiles.js';
import type { Viewer } from './auth/viewer.js';
import type { NoteRepository } from './db/notes.js';
import type { Standing } from './limits/budget.js';
import type { NoteEventFeed } from './realtime/note-feed.js';

/** What every resolver and rule receives. */
export type Context = {
  /** null for a guest (no Authorization header); an invalid token never gets this far. */
  readonly viewer: Viewer | null;
  readonly notes: NoteRepository;
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
  /** The note events a subscription reads, bounded by its connection; only on WebSocket connections. */
  readonly noteEvents?: NoteEventFeed;
};

/** For resolvers behind a rule that already refused guests. */
export function viewerOf(ctx: Context): Viewer {
  if (ctx.viewer === null) throw new Error('A guarded resolver ran without a viewer: check the permissions map.');
  return ctx.viewer;
}
