import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../src/db/database.js';
import { migrate } from '../src/db/migrations.js';
import { migrationsOf } from '../src/module.js';
import { modules } from '../src/modules/index.js';
import { scratchDatabase, TEST_DATABASE_URL, type ScratchDatabase } from './helpers/databases.js';
import { execute, show } from './helpers/graphql.js';
import { startTestIssuer, type TestIssuer } from './helpers/issuer.js';
import { startServer } from './helpers/server.js';

/**
 * What the code before per-module migrations did to a database: one
 * schema_migrations table keyed by version, and the notes table of its
 * migration 1. Written out here as it was, not imported, so that it stays
 * what real databases out there look like.
 */
async function applyUnscopedHistory(db: Database): Promise<void> {
  await db.query(`CREATE TABLE schema_migrations (
    version integer PRIMARY KEY,
    name text NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now()
  )`);
  await db.query(`CREATE TABLE notes (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    owner_id text NOT NULL,
    title text NOT NULL,
    body text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
  )`);
  await db.query('CREATE INDEX notes_owner_created_idx ON notes (owner_id, created_at DESC, id DESC)');
  await db.query('CREATE INDEX notes_created_idx ON notes (created_at DESC, id DESC)');
  await db.query("INSERT INTO schema_migrations (version, name, applied_at) VALUES (1, 'create notes', '2026-11-01T00:00:00Z')");
}

const suite = (kind: 'pglite' | 'postgres') => () => {
  let issuer: TestIssuer;
  let scratch: ScratchDatabase;
  let db: Database;

  beforeAll(async () => {
    issuer = await startTestIssuer();
    scratch = await scratchDatabase(kind);
    db = await scratch.open();
  });
  afterAll(async () => {
    await db.close();
    await scratch.drop();
    await issuer.close();
  });

  it('a database made by the code before modules (schema_migrations, notes) upgrades with every note kept and nothing re-applied', async () => {
    await applyUnscopedHistory(db);
    await db.query("INSERT INTO notes (owner_id, title, body) VALUES ('alice', 'kept 1', 'b'), ('alice', 'kept 2', 'b'), ('bob', 'kept 3', 'b')");

    const server = await startServer({ env: { AUTHGEAR_ENDPOINT: issuer.url }, deps: { database: db } });
    try {
      const token = await issuer.mint({ sub: 'alice', verified: true });
      const mine = await execute(server.url, '{ myNotes { edges { node { title } } } }', { token });
      expect(mine.body, show(mine)).toEqual({ data: { myNotes: { edges: [{ node: { title: 'kept 2' } }, { node: { title: 'kept 1' } }] } } });
      const created = await execute(server.url, 'mutation { createNote(input: { title: "new", body: "b" }) { title } }', { token });
      expect(created.body, show(created)).toEqual({ data: { createNote: { title: 'new' } } });
    } finally {
      await server.stop();
    }
    expect(await db.query('SELECT module, version, name, applied_at AS "appliedAt" FROM module_migrations')).toEqual([
      { module: 'notes', version: 1, name: 'create notes', appliedAt: new Date('2026-11-01T00:00:00Z') },
    ]);
    expect(await db.query("SELECT to_regclass('schema_migrations') IS NULL AS gone")).toEqual([{ gone: true }]);
    expect(await db.query<{ n: number }>('SELECT count(*)::int AS n FROM notes')).toEqual([{ n: 4 }]);
    expect(await migrate(db, migrationsOf(modules))).toEqual([]);
  });

  it('an old schema_migrations row that no module declares stops start-up, naming it, and changes nothing', async () => {
    await db.query('DROP TABLE module_migrations');
    await db.query('CREATE TABLE schema_migrations (version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())');
    await db.query("INSERT INTO schema_migrations (version, name) VALUES (1, 'create notes'), (2, 'add tags')");
    await expect(migrate(db, migrationsOf(modules))).rejects.toThrow(/migration 2 "add tags", which no module declares/);
    expect(await db.query('SELECT version FROM schema_migrations ORDER BY version')).toEqual([{ version: 1 }, { version: 2 }]);
    expect(await db.query("SELECT to_regclass('module_migrations') IS NULL AS absent")).toEqual([{ absent: true }]);
  });
};

describe('upgrading to per-module migrations (embedded PGlite)', suite('pglite'));
describe.skipIf(TEST_DATABASE_URL === undefined)('upgrading to per-module migrations (PostgreSQL server)', suite('postgres'));
