import { loadConfig } from '../../src/config.js';
import type { BaseContext } from '../../src/context.js';
import type { Module, ModuleOptions } from '../../src/module.js';
import { modules } from '../../src/modules/index.js';
import type { NotesServices } from '../../src/modules/notes/context.js';
import type { RuleTree } from '../../src/permissions/index.js';
import { buildSchema, ruleTreeOf, typeDefsOf } from '../../src/schema.js';

/** What modules read of a server, as a test server with the defaults would give them. */
export const moduleOptions: ModuleOptions = {
  config: loadConfig({ NODE_ENV: 'test', REAUTH_MAX_AGE: '300' }),
  server: { name: 'test', version: '0', issuer: 'https://issuer.example', devIssuer: false },
};

/** The SDL of the root and of the modules the server runs. */
export const allTypeDefs = (list: readonly Module[] = modules): string[] => typeDefsOf(list);

/** The one permissions map of the modules the server runs. */
export const ruleTree = (list: readonly Module[] = modules): RuleTree => ruleTreeOf(list, moduleOptions);

/** The executable schema of the modules the server runs, shield included. */
export const testSchema = (list: readonly Module[] = modules) => buildSchema(list, moduleOptions);

/** A context as resolvers and rules of the notes module see it, without a database behind it. */
export const notesContext = (fields: Partial<BaseContext> & Pick<BaseContext, 'viewer'>): BaseContext & NotesServices => ({
  profiles: {} as BaseContext['profiles'],
  notes: {} as NotesServices['notes'],
  noteEvents: {} as NotesServices['noteEvents'],
  requestId: 'test',
  clientAddress: '127.0.0.1',
  ...fields,
});
