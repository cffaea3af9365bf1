import type { Database, Queryable } from './database.js';

export type Migration = Readonly<{ version: number; name: string; statements: readonly string[] }>;

/**
 * The migrations of one module, numbered within it (1, 2, ...), so two
 * modules never compete for a version number. Append only: a released
 * migration is never edited, a new one is added.
 */
export type MigrationTrack = Readonly<{ module: string; migrations: readonly Migration[] }>;

// Any constant works; it only has to be the same in every replica.
const MIGRATION_LOCK = 727_274_001;

const MODULE_NAME = /^[a-z][a-z0-9_]{0,62}$/;

/**
 * Applies pending migrations in one transaction and records them per
 * module. Replicas starting together queue on an advisory lock, so each
 * migration runs once. Returns what was applied, e.g. ["orders/1"].
 */
export async function migrate(db: Database, tracks: readonly MigrationTrack[]): Promise<string[]> {
  for (const { module, migrations } of tracks) {
    if (!MODULE_NAME.test(module)) throw new Error(`Module name ${JSON.stringify(module)} must be a lowercase identifier.`);
    const versions = migrations.map((m) => m.version);
    if (new Set(versions).size !== versions.length) throw new Error(`Module ${module} declares a migration version twice.`);
  }
  return db.transaction(async (tx) => {
    await tx.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK]);
    await tx.query(`CREATE TABLE IF NOT EXISTS module_migrations (
      module text NOT NULL,
      version integer NOT NULL,
      name text NOT NULL,
      applied_at timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (module, version)
    )`);
    await adoptUnscopedHistory(tx, tracks);
    const done = new Set((await tx.query<{ module: string; version: number }>('SELECT module, version FROM module_migrations')).map((r) => `${r.module}/${r.version}`));
    const applied: string[] = [];
    for (const { module, migrations } of tracks) {
      for (const migration of [...migrations].sort((a, b) => a.version - b.version)) {
        const id = `${module}/${migration.version}`;
        if (done.has(id)) continue;
        for (const statement of migration.statements) await tx.query(statement);
        await tx.query('INSERT INTO module_migrations (module, version, name) VALUES ($1, $2, $3)', [module, migration.version, migration.name]);
        applied.push(id);
      }
    }
    return applied;
  });
}

/**
 * Databases made before migrations were tracked per module recorded them in
 * schema_migrations (version, name). Each row is adopted by the module
 * declaring a migration of the same version and name, inside the same
 * transaction, and the old table then goes; a row no module declares stops
 * start-up rather than be forgotten.
 */
async function adoptUnscopedHistory(tx: Queryable, tracks: readonly MigrationTrack[]): Promise<void> {
  const [legacy] = await tx.query<{ exists: boolean }>("SELECT to_regclass('schema_migrations') IS NOT NULL AS exists");
  if (legacy?.exists !== true) return;
  const rows = await tx.query<{ version: number; name: string; appliedAt: Date }>('SELECT version, name, applied_at AS "appliedAt" FROM schema_migrations');
  for (const row of rows) {
    const owner = tracks.find(({ migrations }) => migrations.some((m) => m.version === row.version && m.name === row.name));
    if (owner === undefined) {
      throw new Error(`schema_migrations records migration ${row.version} "${row.name}", which no module declares: add the module that made it to src/modules/index.ts.`);
    }
    await tx.query('INSERT INTO module_migrations (module, version, name, applied_at) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING', [
      owner.module,
      row.version,
      row.name,
      row.appliedAt,
    ]);
  }
  await tx.query('DROP TABLE schema_migrations');
}
