import { migrate } from '../src/db/migrations.js';
import { openPglite } from '../src/db/pglite.js';
import { LIFECYCLE_MIGRATIONS } from '../src/lifecycle/migrations.js';
import { migrationsOf } from '../src/module.js';
import { modules } from '../src/modules/index.js';

/**
 * An embedded database folder in which `count` users are suspended, as
 * Authgear's user.disabled webhooks would leave it: the server started on
 * it loads them all and checks every request against them.
 */
export async function seedSuspendedUsers(dataDir: string, count: number): Promise<void> {
  const db = await openPglite(dataDir);
  try {
    await migrate(db, [LIFECYCLE_MIGRATIONS, ...migrationsOf(modules)]);
    await db.query("INSERT INTO user_lifecycle (user_id, state, seq) SELECT 'suspended-' || n, 'suspended', n FROM generate_series(1, $1::int) AS n", [count]);
  } finally {
    await db.close();
  }
}
