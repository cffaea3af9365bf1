import type { Config } from './config.js';
import type { Database, Queryable } from './db/database.js';
import type { Migration, MigrationTrack } from './db/migrations.js';
import type { Logger } from './logger.js';
import type { RuleTree } from './permissions/index.js';
import type { EventBus } from './realtime/events.js';

/** What a module's setup may use: the server's database, event bus and logger. */
export type ModuleSetup = Readonly<{ database: Database; events: EventBus; logger: Logger }>;

/** What a module's resolvers and rules may read of the server. */
export type ModuleOptions = Readonly<{
  config: Config;
  /** The package's name and version, and the issuer whose tokens are accepted. */
  server: Readonly<{ name: string; version: string; issuer: string; devIssuer: boolean }>;
}>;

/** Resolvers by type and field, as makeExecutableSchema takes them (a module types its own with the generated types). */
export type ResolverMap = Readonly<Record<string, object>>;

/** What a module erased for one user: rows per table, for the log. */
export type Erased = Readonly<Record<string, number>>;

/**
 * One part of the API, as a plain value: its SDL, resolvers, part of the
 * permissions map, migrations, the services it adds to every request's
 * context, and how it forgets a user. The server runs the modules listed
 * in src/modules/index.ts; nothing else in the machinery knows them.
 */
export type Module<Services extends object = object> = Readonly<{
  /** A lowercase identifier: the migration track, and by convention its folder src/modules/<name>/ and schema/<name>.graphql. */
  name: string;
  /** SDL extending the root types (schema/<name>.graphql, see readSchemaFile). */
  typeDefs: string;
  /** GraphQL type -> the TypeScript type its resolvers receive, "<file relative to the module folder>#<type>": codegen's mappers. */
  models?: Readonly<Record<string, string>>;
  migrations?: readonly Migration[];
  /** Once per server, at start-up: the services this module adds to every context (and the topics it declares). */
  setup?(deps: ModuleSetup): Services;
  /** Resolvers of the root fields and types this module's SDL defines, and of nothing else. */
  resolvers(options: ModuleOptions): ResolverMap;
  /** The rules of every root field and object type this module defines: one deny-by-default tree is made of all modules'. */
  permissions(options: ModuleOptions): RuleTree;
  /** Example operations, with comments, that Apollo Sandbox opens with in development. */
  examples?: string;
  /** Deletes every row this module keeps for `userId`, inside the caller's transaction; idempotent. */
  eraseUser?(tx: Queryable, userId: string): Promise<Erased>;
}>;

/** Type inference for a module's services: `defineModule({ ... })` keeps them exact for the module list. */
export function defineModule<Services extends object>(module: Module<Services>): Module<Services> {
  return module;
}

/**
 * Deletes everything every module keeps for `userId`, in one transaction:
 * either all of it goes or none. Idempotent. Returns the rows erased, per
 * module and table (for the log: counts, never the rows' contents).
 */
export async function eraseUser(database: Database, modules: readonly Module[], userId: string): Promise<Record<string, Erased>> {
  return database.transaction((tx) => eraseUserIn(tx, modules, userId));
}

/** eraseUser inside a transaction the caller holds (the webhook's, with the user's new state). */
export async function eraseUserIn(tx: Queryable, modules: readonly Module[], userId: string): Promise<Record<string, Erased>> {
  const erased: Record<string, Erased> = {};
  for (const module of modules) if (module.eraseUser !== undefined) erased[module.name] = await module.eraseUser(tx, userId);
  return erased;
}

/** Each module's migrations, tracked under its name. */
export function migrationsOf(modules: readonly Module[]): MigrationTrack[] {
  return modules.map((module) => ({ module: module.name, migrations: module.migrations ?? [] }));
}

/** The services of a list of modules, as one object type: what their resolvers find on the context. */
export type ServicesOf<M extends readonly Module<object>[]> = UnionToIntersection<ServicesOfOne<M[number]>>;

type ServicesOfOne<M> = M extends Module<infer S> ? S : never;

type UnionToIntersection<U> = (U extends unknown ? (union: U) => void : never) extends (intersection: infer I) => void ? I : never;
