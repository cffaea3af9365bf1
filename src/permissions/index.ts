import { middleware, type IMiddlewareFunction, type IMiddlewareGenerator, type IMiddlewareTypeMap } from 'graphql-middleware';
import { allow, deny, shield, type chain, type IRule, type IRules } from 'graphql-shield';
import { isObjectType, type GraphQLResolveInfo, type GraphQLSchema } from 'graphql';
import type { BaseContext } from '../context.js';
import { forbidden, unauthenticated } from '../errors.js';
import { isSynchronousRule, type SynchronousCheck } from './rules.js';

/** A shield rule, or a combination of them (graphql-shield's chain, and, or, ...). */
export type Rule = IRule | ReturnType<typeof chain>;

/** Rules by type: one rule for every field of a type, or one per field. */
export type RuleTree = Readonly<Record<string, Rule | Readonly<Record<string, Rule>>>>;

/** What the machinery itself defines in schema/root.graphql. */
const ROOT_RULES: RuleTree = {
  PageInfo: allow, // positions within rows the viewer may see: each list field is guarded itself
};

/**
 * The one permissions map, from the root rules and every module's part.
 * A type or field ruled twice stops start-up: two modules would otherwise
 * each believe their rule is the one that holds.
 */
export function mergeRuleTrees(parts: readonly Readonly<{ source: string; tree: RuleTree }>[]): RuleTree {
  const merged: Record<string, Rule | Record<string, Rule>> = { ...ROOT_RULES };
  const ruledBy = new Map<string, string>(Object.keys(ROOT_RULES).map((type) => [type, 'the root schema']));
  for (const { source, tree } of parts) {
    for (const [type, rules] of Object.entries(tree)) {
      const existing = merged[type];
      const perField = isFieldMap(rules);
      if (existing === undefined) {
        merged[type] = perField ? { ...rules } : rules;
        ruledBy.set(type, source);
        continue;
      }
      if (!perField || !isFieldMap(existing)) throw new Error(`${type} is ruled by both ${ruledBy.get(type)} and ${source}: one module owns a type's rule.`);
      for (const [field, rule] of Object.entries(rules)) {
        const key = `${type}.${field}`;
        if (existing[field] !== undefined) throw new Error(`${key} is ruled by both ${ruledBy.get(key) ?? ruledBy.get(type)} and ${source}.`);
        existing[field] = rule;
        ruledBy.set(key, source);
      }
    }
  }
  return merged;
}

const isFieldMap = (value: unknown): value is Record<string, Rule> =>
  typeof value === 'object' && value !== null && Object.getPrototypeOf(value) === Object.prototype;

/**
 * The shield over the whole schema: deny by default (fallbackRule: deny),
 * with the rules of `tree`; a test walks the schema and fails when a root
 * field or an object type has no rule.
 */
export function createPermissions(tree: RuleTree): IMiddlewareGenerator<unknown, BaseContext, unknown> {
  const guard = shield(tree as IRules, {
    fallbackRule: deny,
    // Rules and resolvers report their own coded errors (BAD_USER_INPUT, NOT_FOUND, ...).
    allowExternalErrors: true,
    // shield's default is a plain Error, which Apollo would report as INTERNAL_SERVER_ERROR.
    fallbackError: (_error, _parent, _args, ctx, info: GraphQLResolveInfo) =>
      (ctx as unknown as BaseContext).viewer === null
        ? unauthenticated()
        : forbidden(`${info.parentType.name}.${info.fieldName} is not open to this user.`),
  });
  // A type whose rule is `allow` gains nothing from a wrapper on each field,
  // and pays a promise per field for it: leave those types unwrapped.
  const open = Object.keys(tree).filter((type) => tree[type] === (allow as Rule));
  const synchronous = Object.entries(tree).filter((entry): entry is [string, Rule & { synchronousCheck: SynchronousCheck }] => isSynchronousRule(entry[1]));
  return middleware<unknown, BaseContext, unknown>((schema) => {
    const wrapped = guard.generate(schema) as Record<string, unknown>;
    for (const type of open) delete wrapped[type];
    for (const [type, rule] of synchronous) wrapped[type] = checkedAtOnce(schema, type, rule.synchronousCheck);
    return wrapped as IMiddlewareTypeMap;
  });
}

type Resolve = (parent: never, args: Record<string, unknown>, ctx: BaseContext, info: GraphQLResolveInfo) => unknown;

/** What shield does for a type rule (the rule's error, or the field), without a promise per field. */
function checkedAtOnce(schema: GraphQLSchema, typeName: string, check: SynchronousCheck): Record<string, IMiddlewareFunction<unknown, BaseContext, unknown>> {
  const type = schema.getType(typeName);
  if (!isObjectType(type)) throw new Error(`The permissions map names ${typeName}, which is not an object type of the schema.`);
  const guarded = (resolve: Resolve, parent: never, args: Record<string, unknown>, ctx: BaseContext, info: GraphQLResolveInfo): unknown => {
    let verdict: true | Error;
    try {
      verdict = check(parent, args, ctx, info);
    } catch (error) {
      verdict = error as Error;
    }
    return verdict === true ? resolve(parent, args, ctx, info) : verdict;
  };
  // graphql-middleware types a middleware as returning a promise, but passes any value through.
  const middlewareFunction = guarded as unknown as IMiddlewareFunction<unknown, BaseContext, unknown>;
  return Object.fromEntries(Object.keys(type.getFields()).map((field) => [field, middlewareFunction]));
}
