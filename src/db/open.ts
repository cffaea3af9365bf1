import type { Config } from '../config.js';
import type { Database } from './database.js';
import { openPglite } from './pglite.js';
import { openPostgres } from './postgres.js';

/** Opens the configured database: PGlite when DATABASE_URL is unset, else a pg pool. */
export async function openDatabase(
  config: Config['database'],
  onIdleError: (error: Error) => void,
): Promise<Database> {
  return config.url === null ? openPglite(config.pgliteDataDir) : openPostgres(config.url, onIdleError);
}
