import { middleware, type IMiddlewareFunction, type IMiddlewareGenerator, type IMiddlewareTypeMap } from 'graphql-middleware';
import { allow, chain, deny, shield, type IRule, type IRules } from 'graphql-shield';
import { isObjectType, type GraphQLResolveInfo, type GraphQLSchema } from 'graphql';
import type { Context } from '../context.js';
import { forbidden, unauthenticated } from '../errors.js';
import type { MutationResolvers, QueryResolvers, SubscriptionResolvers } from '../generated/graphql.js';
import {
  ADMIN_ROLE,
  canReadNote,
  hasRole,
  isAuthenticated,
  isRegistered,
  isSynchronousRule,
  isVerified,
  ownsNote,
  readsEveryonesNotes,
  readsNotes,
  reauthenticatedWithin,
  type SynchronousCheck,
} from './rules.js';

type Rule = IRule | ReturnType<typeof chain>;

/**
 * Who may use what, one line per field. Anything not listed is denied
 * (fallbackRule: deny), and the Record types below make `npm run typecheck`
 * fail when a Query, Mutation or Subscription field has no line here.
 */
export function createRuleTree(options: { reauthMaxAgeSeconds: number }) {
  const Query: Record<keyof QueryResolvers, Rule> = {
    serverInfo: allow, //                  public: clients discover the issuer here
    rateLimit: allow, //                   public: a guest sees its address's budget
    me: isAuthenticated, //                any user (anonymous ones included) or service
    myNotes: isRegistered, //              anonymous users have no notes to keep; services own none
    note: readsNotes, //                   users: scoped to the owner (admins: anyone), others' notes -> null; services: scope notes:read
    allNotes: readsEveryonesNotes, //      the moderation view: role admin, or a reporting service with scope notes:read
  };
  // Every mutation needs a signed-in user: services read, they never write.
  const Mutation: Record<keyof MutationResolvers, Rule> = {
    createNote: isVerified, //             a verified identity stands behind every note
    updateNote: ownsNote, //               someone else's note -> NOT_FOUND, same as a missing one
    deleteNote: chain(ownsNote, reauthenticatedWithin(options.reauthMaxAgeSeconds)), // destructive: recent sign-in
  };

  // Checked when a subscription starts; each event then passes the Note rule again for its subscriber.
  const Subscription: Record<keyof SubscriptionResolvers, Rule> = {
    myNoteEvents: isRegistered, //         your own notes, as myNotes; services cannot subscribe
    allNoteEvents: hasRole(ADMIN_ROLE), // the moderation view, live: role admin
  };

  return {
    Query,
    Mutation,
    Subscription,
    NoteConnection: allow, //              reachable only through myNotes and allNotes, already guarded
    NoteEdge: allow, //                    its node is a Note, which keeps its own rule
    PageInfo: allow, //                    positions within rows the viewer may see
    Viewer: allow, //                      reachable only through `me`, already guarded
    Profile: allow, //                     only through Viewer.profile, which answers the request's own user alone (auth/profiles.ts); a service's is null, no error
    ServerInfo: allow, //                  public
    RateLimit: allow, //                   public, the caller's own budget
    NoteEvent: allow, //                   reachable only through Subscription, already guarded; its note keeps the Note rule
    Note: canReadNote, //                  owner, admin or a service with notes:read, whatever resolver returned it
  };
}

export function createPermissions(options: { reauthMaxAgeSeconds: number }): IMiddlewareGenerator<unknown, Context, unknown> {
  const tree: Record<string, unknown> = createRuleTree(options);
  const guard = shield(tree as IRules, {
    fallbackRule: deny,
    // Rules and resolvers report their own coded errors (BAD_USER_INPUT, NOT_FOUND, ...).
    allowExternalErrors: true,
    // shield's default is a plain Error, which Apollo would report as INTERNAL_SERVER_ERROR.
    fallbackError: (_error, _parent, _args, ctx, info: GraphQLResolveInfo) =>
      (ctx as unknown as Context).viewer === null
        ? unauthenticated()
        : forbidden(`${info.parentType.name}.${info.fieldName} is not open to this user.`),
  });
  // A type whose rule is `allow` gains nothing from a wrapper on each field,
  // and pays a promise per field for it: leave those types unwrapped.
  const open = Object.keys(tree).filter((type) => tree[type] === allow);
  const synchronous = Object.entries(tree).filter((entry): entry is [string, { synchronousCheck: SynchronousCheck }] => isSynchronousRule(entry[1]));
  return middleware<unknown, Context, unknown>((schema) => {
    const wrapped = guard.generate(schema) as Record<string, unknown>;
    for (const type of open) delete wrapped[type];
    for (const [type, rule] of synchronous) wrapped[type] = checkedAtOnce(schema, type, rule.synchronousCheck);
    return wrapped as IMiddlewareTypeMap;
  });
}

type Resolve = (parent: never, args: Record<string, unknown>, ctx: Context, info: GraphQLResolveInfo) => unknown;

/** What shield does for a type rule (the rule's error, or the field), without a promise per field. */
function checkedAtOnce(schema: GraphQLSchema, typeName: string, check: SynchronousCheck): Record<string, IMiddlewareFunction<unknown, Context, unknown>> {
  const type = schema.getType(typeName);
  if (!isObjectType(type)) throw new Error(`The permissions map names ${typeName}, which is not an object type of the schema.`);
  const guarded = (resolve: Resolve, parent: never, args: Record<string, unknown>, ctx: Context, info: GraphQLResolveInfo): unknown => {
    let verdict: true | Error;
    try {
      verdict = check(parent, args, ctx, info);
    } catch (error) {
      verdict = error as Error;
    }
    return verdict === true ? resolve(parent, args, ctx, info) : verdict;
  };
  // graphql-middleware types a middleware as returning a promise, but passes any value through.
  const middlewareFunction = guarded as unknown as IMiddlewareFunction<unknown, Context, unknown>;
  return Object.fromEntries(Object.keys(type.getFields()).map((field) => [field, middlewareFunction]));
}
