import type { Verifier } from '../auth/verifier.js';
import type { Database } from '../db/database.js';

export type Readiness = {
  ready: boolean;
  checks: { database: 'ok' | 'failing'; authProvider: 'ok' | 'failing' };
};

const within = <T>(ms: number, work: Promise<T>): Promise<T> =>
  Promise.race([work, new Promise<never>((_, reject) => setTimeout(() => reject(new Error('timed out')), ms).unref())]);

/**
 * Ready means: the database answers, and the issuer's signing keys have been
 * fetched at least once (fetching them now if they were not).
 */
export async function checkReadiness(deps: { database: Database; verifier: Verifier }): Promise<Readiness> {
  const [database, authProvider] = await Promise.all([
    within(2000, deps.database.query('SELECT 1')).then(
      () => 'ok' as const,
      () => 'failing' as const,
    ),
    deps.verifier.ready
      ? ('ok' as const)
      : within(6000, deps.verifier.warm()).then(
          () => 'ok' as const,
          () => 'failing' as const,
        ),
  ]);
  return { ready: database === 'ok' && authProvider === 'ok', checks: { database, authProvider } };
}
