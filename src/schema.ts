import { makeExecutableSchema } from '@graphql-tools/schema';
import type { GraphQLSchema } from 'graphql';
import { applyMiddleware } from 'graphql-middleware';
import type { Module, ModuleOptions, ResolverMap } from './module.js';
import { createPermissions, mergeRuleTrees, type RuleTree } from './permissions/index.js';
import { DateTime } from './scalars.js';
import { readSchemaFile } from './type-defs.js';

/** The root types and scalars that every module's SDL extends. */
export const rootTypeDefs = (): string => readSchemaFile('root.graphql');

/** The SDL of the root and of every module, in the modules' order. */
export function typeDefsOf(modules: readonly Module[]): string[] {
  return [rootTypeDefs(), ...modules.map((module) => module.typeDefs)];
}

/**
 * Every module's resolvers in one map. A module defines its own root fields
 * and types; a field two modules resolve stops start-up.
 */
export function mergeResolvers(modules: readonly Module[], options: ModuleOptions): ResolverMap {
  const merged: Record<string, Record<string, unknown>> = {};
  const resolvedBy = new Map<string, string>();
  for (const module of modules) {
    for (const [type, fields] of Object.entries(module.resolvers(options))) {
      if (fields instanceof Object && !isPlainObject(fields)) {
        // A scalar (GraphQLScalarType) or enum instance: owned whole by one module.
        if (merged[type] !== undefined) throw new Error(`${type} is resolved by both ${resolvedBy.get(type)} and ${module.name}.`);
        merged[type] = fields as Record<string, unknown>;
        resolvedBy.set(type, module.name);
        continue;
      }
      const target = (merged[type] ??= {});
      for (const [field, resolver] of Object.entries(fields)) {
        const key = `${type}.${field}`;
        if (field in target) throw new Error(`${key} is resolved by both ${resolvedBy.get(key)} and ${module.name}: one module owns a field.`);
        target[field] = resolver;
        resolvedBy.set(key, module.name);
      }
    }
  }
  return merged;
}

const isPlainObject = (value: object): boolean => Object.getPrototypeOf(value) === Object.prototype;

/** Every module's rules as one deny-by-default tree. */
export function ruleTreeOf(modules: readonly Module[], options: ModuleOptions): RuleTree {
  return mergeRuleTrees(modules.map((module) => ({ source: module.name, tree: module.permissions(options) })));
}

/** The executable schema: SDL from schema/, every module's resolvers, and the shield over all of it. */
export function buildSchema(modules: readonly Module[], options: ModuleOptions): GraphQLSchema {
  const schema = makeExecutableSchema({
    typeDefs: typeDefsOf(modules),
    resolvers: { DateTime, ...mergeResolvers(modules, options) },
  });
  return applyMiddleware(schema, createPermissions(ruleTreeOf(modules, options)));
}
