import { rule, type IRule } from 'graphql-shield';
import type { GraphQLResolveInfo } from 'graphql';
import type { Viewer } from '../auth/viewer.js';
import type { Context } from '../context.js';
import type { NoteRecord, NoteScope } from '../db/notes.js';
import { forbidden, notFound, reauthenticationRequired, unauthenticated } from '../errors.js';

/**
 * The building blocks of the permissions map. Every rule answers a guest
 * with UNAUTHENTICATED, so a client learns to sign in before it learns
 * anything else. Rules that read only the viewer are cached per request
 * ('contextual'): a list of notes evaluates each of them once.
 */

type ViewerCheck = (viewer: Viewer) => true | Error;

function viewerRule(name: string, check: ViewerCheck): IRule {
  return rule(name, { cache: 'contextual' })((_parent, _args, ctx: Context) =>
    ctx.viewer === null ? unauthenticated() : check(ctx.viewer),
  );
}

export const isAuthenticated = viewerRule('isAuthenticated', () => true);

export const isRegistered = viewerRule('isRegistered', (viewer) =>
  viewer.isAnonymous
    ? forbidden('Anonymous users cannot do this: promote the account (sign up with an email, phone or social login) first.')
    : true,
);

export const isVerified = viewerRule('isVerified', (viewer) =>
  viewer.isVerified ? true : forbidden('Verify an email address or phone number of this account first.'),
);

/** The Authgear role key that sees every user's notes. */
export const ADMIN_ROLE = 'admin';

export const isAdmin = (viewer: Viewer): boolean => viewer.roles.includes(ADMIN_ROLE);

// Factories hand out one rule per argument: shield refuses two rules with
// one name, and the contextual cache is keyed by that name.
const memo = new Map<string, IRule>();
function memoized(name: string, make: () => IRule): IRule {
  let cached = memo.get(name);
  if (cached === undefined) {
    cached = make();
    memo.set(name, cached);
  }
  return cached;
}

export function hasRole(role: string): IRule {
  return hasAnyRole(role);
}

export function hasAnyRole(...roles: string[]): IRule {
  const name = `hasAnyRole(${roles.join(',')})`;
  const list = roles.join(' or ');
  return memoized(name, () =>
    viewerRule(name, (viewer) =>
      roles.some((role) => viewer.roles.includes(role)) ? true : forbidden(`This needs the Authgear role ${list}.`),
    ),
  );
}

export function reauthenticatedWithin(seconds: number): IRule {
  const name = `reauthenticatedWithin(${seconds})`;
  return memoized(name, () =>
    viewerRule(name, (viewer) => {
      const at = viewer.authenticatedAt;
      return at !== null && Date.now() - at.getTime() <= seconds * 1000
        ? true
        : reauthenticationRequired(seconds, viewer.canReauthenticate);
    }),
  );
}

/** For mutations taking a note `id`: someone else's note looks exactly like a missing one. */
export const ownsNote = rule('ownsNote')(async (_parent, args: { id: string }, ctx: Context) => {
  if (ctx.viewer === null) return unauthenticated();
  let ownerId: string | null;
  try {
    ownerId = await ctx.notes.ownerOf(args.id);
  } catch (error) {
    // Returned, not thrown: shield turns a thrown error into a denial, and a
    // database outage must not read as FORBIDDEN.
    return error as Error;
  }
  return ownerId === ctx.viewer.id ? true : notFound(`You have no note with id ${JSON.stringify(args.id)}.`);
});

/**
 * On the Note type itself: a note reaches a response only for its owner or
 * an admin, whichever resolver produced it.
 */
export const canReadNote = rule('canReadNote')((note: NoteRecord, _args, ctx: Context, info: GraphQLResolveInfo) => {
  if (ctx.viewer === null) return unauthenticated();
  return note.ownerId === ctx.viewer.id || isAdmin(ctx.viewer)
    ? true
    : forbidden(`Note.${info.fieldName} belongs to another user.`);
});

/** The only place a viewer is granted every user's notes. */
export function noteScopeFor(viewer: Viewer): NoteScope {
  return isAdmin(viewer) ? 'everyone' : { ownerId: viewer.id };
}
