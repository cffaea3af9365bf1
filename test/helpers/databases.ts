import { randomBytes } from 'node:crypto';
import pg from 'pg';
import type { Database } from '../../src/db/database.js';
import { openPglite } from '../../src/db/pglite.js';
import { openPostgres } from '../../src/db/postgres.js';

export const TEST_DATABASE_URL = process.env['TEST_DATABASE_URL'];

export type ScratchDatabase = { url: string | null; open(): Promise<Database>; drop(): Promise<void> };

/**
 * A database of its own for one test file: an in-memory PGlite, or a fresh
 * database on the TEST_DATABASE_URL server, so runs never see each other's rows.
 */
export async function scratchDatabase(kind: 'pglite' | 'postgres'): Promise<ScratchDatabase> {
  if (kind === 'pglite') return { url: null, open: () => openPglite(null), drop: async () => undefined };
  if (TEST_DATABASE_URL === undefined) throw new Error('TEST_DATABASE_URL is not set');
  const name = `starter_test_${Date.now()}_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: TEST_DATABASE_URL });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(TEST_DATABASE_URL);
  url.pathname = `/${name}`;
  return {
    url: url.href,
    open: () => openPostgres(url.href, () => undefined),
    async drop() {
      const client = new pg.Client({ connectionString: TEST_DATABASE_URL });
      await client.connect();
      await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await client.end();
    },
  };
}
