import { rule, type IRule } from 'graphql-shield';
import type { GraphQLResolveInfo } from 'graphql';
import type { ServiceViewer, UserViewer, Viewer } from '../auth/viewer.js';
import type { BaseContext } from '../context.js';
import { forbidden, reauthenticationRequired, unauthenticated } from '../errors.js';

/**
 * The building blocks of the permissions map. Every rule answers a guest
 * with UNAUTHENTICATED, so a client learns to sign in before it learns
 * anything else. User rules refuse services (machine-to-machine tokens) and
 * scope rules refuse users, each with FORBIDDEN and a message that says
 * which kind of caller is needed. Rules that read only the viewer are cached
 * per request ('contextual'): a list of a hundred items evaluates each of them once.
 */

export type Check<V extends Viewer> = (viewer: V) => true | Error;

/** A rule that reads only the viewer: cached per request, a guest answered with UNAUTHENTICATED. */
export function viewerRule(name: string, check: Check<Viewer>): IRule {
  return rule(name, { cache: 'contextual' })((_parent, _args, ctx: BaseContext) =>
    ctx.viewer === null ? unauthenticated() : check(ctx.viewer),
  );
}

export const userNeeded = (): Error =>
  forbidden('This needs a signed-in user: a service (machine-to-machine) token cannot do it.');

export const userOnly =
  (check: Check<UserViewer>): Check<Viewer> =>
  (viewer) =>
    viewer.kind === 'user' ? check(viewer) : userNeeded();

export const serviceOnly =
  (check: Check<ServiceViewer>, needed: string): Check<Viewer> =>
  (viewer) =>
    viewer.kind === 'service' ? check(viewer) : forbidden(`This needs a service token with ${needed}; user tokens carry no scopes.`);

// Factories hand out one rule per argument: shield refuses two rules with
// one name, and the contextual cache is keyed by that name.
const memo = new Map<string, IRule>();
export function memoized(name: string, check: () => Check<Viewer>): IRule {
  let cached = memo.get(name);
  if (cached === undefined) {
    cached = viewerRule(name, check());
    memo.set(name, cached);
  }
  return cached;
}

export const isAuthenticated = viewerRule('isAuthenticated', () => true);

/** Any signed-in user (anonymous ones included), never a service. */
export const isUser = viewerRule('isUser', userOnly(() => true));

export const isRegistered = viewerRule(
  'isRegistered',
  userOnly((user) =>
    user.isAnonymous
      ? forbidden('Anonymous users cannot do this: promote the account (sign up with an email, phone or social login) first.')
      : true,
  ),
);

export const isVerified = viewerRule(
  'isVerified',
  userOnly((user) => (user.isVerified ? true : forbidden('Verify an email address or phone number of this account first.'))),
);

/** The Authgear role key of administrators (the dev token's role). */
export const ADMIN_ROLE = 'admin';

const roleCheck = (roles: readonly string[]): Check<UserViewer> => {
  const list = roles.join(' or ');
  return (user) => (roles.some((role) => user.roles.includes(role)) ? true : forbidden(`This needs the Authgear role ${list}.`));
};

const scopeCheck = (mode: 'all' | 'any', scopes: readonly string[]): Check<ServiceViewer> => {
  const list = scopes.join(mode === 'all' ? ' and ' : ' or ');
  const granted = (service: ServiceViewer) =>
    mode === 'all' ? scopes.every((s) => service.scopes.includes(s)) : scopes.some((s) => service.scopes.includes(s));
  return (service) => (granted(service) ? true : forbidden(`This needs a service token with scope ${list}.`));
};

export function hasRole(role: string): IRule {
  return hasAnyRole(role);
}

export function hasAnyRole(...roles: string[]): IRule {
  return memoized(`hasAnyRole(${roles.join(',')})`, () => userOnly(roleCheck(roles)));
}

/** A service whose token grants every one of `scopes`. */
export function hasScope(...scopes: string[]): IRule {
  return memoized(`hasScope(${scopes.join(',')})`, () => serviceOnly(scopeCheck('all', scopes), `scope ${scopes.join(' and ')}`));
}

/** A service whose token grants at least one of `scopes`. */
export function hasAnyScope(...scopes: string[]): IRule {
  return memoized(`hasAnyScope(${scopes.join(',')})`, () => serviceOnly(scopeCheck('any', scopes), `scope ${scopes.join(' or ')}`));
}

export function reauthenticatedWithin(seconds: number): IRule {
  return memoized(`reauthenticatedWithin(${seconds})`, () =>
    userOnly((user) => {
      const at = user.authenticatedAt;
      return at !== null && Date.now() - at.getTime() <= seconds * 1000 ? true : reauthenticationRequired(seconds, user.canReauthenticate);
    }),
  );
}

/** A rule that decides at once, from the parent object and the viewer alone. */
export type SynchronousCheck = (parent: never, args: Record<string, unknown>, ctx: BaseContext, info: GraphQLResolveInfo) => true | Error;
export type SynchronousRule = IRule & { readonly synchronousCheck: SynchronousCheck };

/**
 * A rule for every field of a type that must not wait: createPermissions
 * runs its check directly instead of through shield's promises, which keeps
 * the execution of a long list, or of one event for thousands of
 * subscribers, synchronous. It is still a shield rule for shield() itself.
 */
export function synchronousRule<P>(name: string, check: (parent: P, args: Record<string, unknown>, ctx: BaseContext, info: GraphQLResolveInfo) => true | Error): SynchronousRule {
  return Object.assign(rule(name)(check), { synchronousCheck: check });
}

export const isSynchronousRule = (value: unknown): value is SynchronousRule =>
  typeof value === 'object' && value !== null && typeof (value as Partial<SynchronousRule>).synchronousCheck === 'function';
