/**
 * Every environment variable this server reads. config.ts can read no other
 * (its reader takes only these names), so a new variable is one line here;
 * and start-up warns about a name that looks like one of these but is not,
 * such as AUTHGEAR_ENDPIONT, which would otherwise be ignored in silence.
 */
export const VARIABLES = [
  'NODE_ENV',
  'PORT',
  'HOST',
  'LOG_LEVEL',
  'LOG_FORMAT',
  'AUTHGEAR_ENDPOINT',
  'AUTHGEAR_CLIENT_ID',
  'AUTHGEAR_API_RESOURCE',
  'AUTHGEAR_WEBHOOK_SECRET',
  'JWT_AUDIENCE',
  'JWT_TYP',
  'JWT_CLOCK_TOLERANCE',
  'REAUTH_MAX_AGE',
  'DEV_ISSUER_DIR',
  'TRUSTED_PROXIES',
  'DATABASE_URL',
  'PGLITE_DATA_DIR',
  'CORS_ORIGINS',
  'INTROSPECTION',
  'BODY_LIMIT_BYTES',
  'QUERY_MAX_DEPTH',
  'QUERY_MAX_ALIASES',
  'QUERY_MAX_DIRECTIVES',
  'QUERY_MAX_TOKENS',
  'QUERY_MAX_COST',
  'QUERY_MAX_RESPONSE_BYTES',
  'RATE_LIMIT_POINTS',
  'RATE_LIMIT_WINDOW',
  'RATE_LIMIT_STORE',
  'RATE_LIMIT_CONCURRENCY',
  'AUTH_FAILURE_LIMIT',
  'METRICS_PORT',
  'SUBSCRIPTION_MAX_LIFETIME',
  'SUBSCRIPTION_MAX_PER_CONNECTION',
  'SUBSCRIPTION_MAX_CONNECTIONS_PER_VIEWER',
  'PROFILE_CACHE_TTL',
] as const;

export type Variable = (typeof VARIABLES)[number];

const KNOWN: ReadonlySet<string> = new Set(VARIABLES);

/** First words that are Node's or everyone's, not this server's: NODE_OPTIONS is none of our business. */
const SHARED_PREFIXES: ReadonlySet<string> = new Set(['NODE_']);

/** This server's families of names, taken from the names themselves: AUTHGEAR_, JWT_, RATE_, ... */
const PREFIXES: readonly string[] = [
  ...new Set(VARIABLES.filter((name) => name.includes('_')).map((name) => name.slice(0, name.indexOf('_') + 1))),
].filter((prefix) => !SHARED_PREFIXES.has(prefix));

/**
 * One warning per variable in `env` that this server does not read but that
 * was surely meant for it: it starts like one of its variables
 * (AUTHGEAR_ENDPIONT), or is one typo away from a long one (AUTHGAER_ENDPOINT).
 */
export function unknownVariableWarnings(env: Readonly<Record<string, string | undefined>>): string[] {
  const warnings: string[] = [];
  for (const name of Object.keys(env).sort()) {
    if (KNOWN.has(name)) continue;
    const closest = closestVariable(name);
    const prefixed = PREFIXES.some((prefix) => name.startsWith(prefix));
    const oneTypoAway = closest !== null && closest.distance === 1 && closest.name.length >= 8;
    if (!prefixed && !oneTypoAway) continue;
    const hint = closest === null ? ' (see .env.example for the list)' : `; did you mean ${closest.name}?`;
    warnings.push(`${name} is not a variable this server reads${hint}`);
  }
  return warnings;
}

/** The known name nearest to `name`, when near enough to be what was meant. */
function closestVariable(name: string): { name: Variable; distance: number } | null {
  let best: { name: Variable; distance: number } | null = null;
  for (const known of VARIABLES) {
    const distance = editDistance(name, known);
    if (best === null || distance < best.distance) best = { name: known, distance };
  }
  return best !== null && best.distance <= Math.max(2, Math.floor(best.name.length / 4)) ? best : null;
}

/** Edits (insert, delete, replace, swap two neighbours) that turn `a` into `b`: optimal string alignment. */
export function editDistance(a: string, b: string): number {
  // Three rows of the dynamic-programming table: the swap looks two rows back.
  let beforePrevious: number[] = [];
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min((previous[j] as number) + 1, (current[j - 1] as number) + 1, (previous[j - 1] as number) + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) best = Math.min(best, (beforePrevious[j - 2] as number) + 1);
      current.push(best);
    }
    beforePrevious = previous;
    previous = current;
  }
  return previous[b.length] as number;
}
