/**
 * npm run bench: the cost of authentication and authorization, measured.
 *
 * Builds, then starts on loopback this project's server (dist/main.js,
 * NODE_ENV=production, tokens from a local issuer, embedded database in a
 * temp folder unless --database-url, request logs, rate limits and metrics
 * on), the same server with rate limits and metrics off, and a baseline Apollo
 * Server 5 standalone with the same schema and no auth, each in its own
 * process, and loads them with autocannon in alternation: a warm-up,
 * then several rounds of every scenario. Prints requests/s and p50/p99
 * latency per scenario and the ratio of each to its baseline, and writes
 * them as JSON (bench/results/latest.json unless --out says otherwise).
 *
 * Like is compared with like: each scenario has a baseline scenario sending
 * the same request to the baseline server, which answers it without auth
 * (`me` from a fixed viewer, `myNotes` from ten notes in memory); the table
 * names the baseline of every row.
 *
 * Machines like this one drift in speed within seconds, so every run of a
 * scenario is paired with a run of its baseline next to it, in ABBA order,
 * and its ratio is taken within the pair; the figures are medians over the
 * rounds.
 *
 * Then the pagination figures on a PostgreSQL server (bench/pagination.ts):
 * --database-url, else BENCH_DATABASE_URL, else the local server; skipped
 * with a notice when none answers.
 *
 *   npm run bench -- [--duration 2] [--rounds 8] [--warmup 1] [--connections 32]
 *                    [--database-url postgres://...] [--out file.json]
 *                    [--only http|pagination|subscriptions]
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { availableParallelism, cpus, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import { base64url } from 'jose';
import { generateSigningKey } from '../src/auth/dev-issuer.js';
import { ROOT } from '../test/helpers/process.js';
import { startTestIssuer } from '../test/helpers/issuer.js';
import { NO_LIMITS_NO_METRICS, UNTRIPPED_LIMITS } from './limits.js';
import { benchPagination, DEFAULT_BENCH_DATABASE_URL } from './pagination.js';
import { benchSubscriptions } from './subscriptions.js';
import { seedSuspendedUsers } from './suspended-users.js';

/** Users suspended by Authgear's webhooks on the `suspended` server: every request is checked against them. */
const SUSPENDED_USERS = 10_000;

const { values: args } = parseArgs({
  options: {
    duration: { type: 'string', default: '2' },
    rounds: { type: 'string', default: '8' },
    warmup: { type: 'string', default: '1' },
    connections: { type: 'string', default: '32' },
    'database-url': { type: 'string' },
    out: { type: 'string', default: join(ROOT, 'bench', 'results', 'latest.json') },
    only: { type: 'string' },
  },
});
const runs = (part: 'http' | 'pagination' | 'subscriptions'): boolean => args.only === undefined || args.only === part;
const DURATION = Number(args.duration);
const ROUNDS = Number(args.rounds);
const WARMUP = Number(args.warmup);
const CONNECTIONS = Number(args.connections);

type Request = { headers: Record<string, string>; body: string };
type Scenario = { name: string; target: 'baseline' | 'project' | 'bare' | 'suspended'; requests: Request[]; expectStatus: number };
/** A scenario on this project's servers, and the baseline scenario its ratio is taken against. */
type Measured = Scenario & { against: Scenario };
type Sample = { rps: number; p50: number; p99: number; unexpected: number };

const PUBLIC_QUERY = JSON.stringify({ query: '{ serverInfo { name version } }' });
const ME_QUERY = JSON.stringify({ query: '{ me { id roles isVerified } }' });
// The token has no profile claims (as Authgear's SPA tokens): UserInfo answers once, then the cache does (PROFILE_CACHE_TTL).
const ME_PROFILE_QUERY = JSON.stringify({ query: '{ me { id roles isVerified profile { email name } } }' });
const MY_NOTES_QUERY = JSON.stringify({ query: '{ myNotes { edges { cursor node { id title body createdAt } } pageInfo { hasNextPage endCursor } } }' });
const JSON_HEADERS = { 'content-type': 'application/json' };

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer().listen(0, '127.0.0.1', () => {
      const address = probe.address();
      probe.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

function start(entry: string, env: Record<string, string>): ChildProcess {
  const child = spawn(process.execPath, [entry], {
    cwd: ROOT,
    env: { PATH: process.env['PATH'], ...env },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  child.on('exit', (code, signal) => {
    if (code !== 0 && signal === null) process.stderr.write(`${entry} exited with ${code}\n`);
  });
  return child;
}

async function waitUntilServing(url: string): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    try {
      const response = await fetch(url, { method: 'POST', headers: JSON_HEADERS, body: PUBLIC_QUERY });
      if (response.status === 200) return;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`${url} did not start within 60 s`);
}

async function check(url: string, scenario: Scenario): Promise<void> {
  const request = scenario.requests[0] as Request;
  const response = await fetch(url, { method: 'POST', headers: request.headers, body: request.body });
  const text = await response.text();
  if (response.status !== scenario.expectStatus || (scenario.expectStatus === 200 && text.includes('"errors"'))) {
    throw new Error(`${scenario.name}: expected HTTP ${scenario.expectStatus}, got ${response.status} ${text.slice(0, 300)}`);
  }
}

async function load(url: string, scenario: Scenario, seconds: number): Promise<Sample> {
  const result = await autocannon({
    url,
    connections: CONNECTIONS,
    duration: seconds,
    method: 'POST',
    requests: scenario.requests.map((request) => ({ method: 'POST', headers: request.headers, body: request.body })),
  });
  const matching = (result.statusCodeStats as Record<string, { count: number } | undefined>)[String(scenario.expectStatus)]?.count ?? 0;
  return {
    rps: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    unexpected: result.requests.total - matching + result.errors + result.timeouts,
  };
}

const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[middle] as number) : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
};

/** Invalid tokens a real API sees: expired ones, forged signatures, unknown keys, garbage; each distinct. */
async function invalidTokens(mint: (claims: Record<string, unknown>, key?: Awaited<ReturnType<typeof generateSigningKey>>) => Promise<string>): Promise<string[]> {
  const stranger = await generateSigningKey();
  const now = Math.floor(Date.now() / 1000);
  const tokens: string[] = [];
  for (let i = 0; i < 50; i++) {
    const expired = await mint({ sub: `expired-${i}`, iat: now - 7200, exp: now - 3600 });
    const valid = await mint({ sub: `forged-${i}` });
    const [header, payload, signature = ''] = valid.split('.');
    const forged = `${header}.${payload}.${signature.slice(0, 20)}${signature[20] === 'A' ? 'B' : 'A'}${signature.slice(21)}`;
    const unknownKid = await mint({ sub: `stranger-${i}` }, stranger);
    const garbage = `${base64url.encode(JSON.stringify({ alg: 'RS256', typ: 'at+jwt' }))}.${base64url.encode(`garbage-${i}`)}.c2ln`;
    tokens.push(expired, forged, unknownKid, garbage);
  }
  return tokens;
}

/** Every part runs the built JavaScript, as production does: no TypeScript loader in the hot path, and never a stale dist/. */
function build(): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    spawn('npm', ['run', '--silent', 'build'], { cwd: ROOT, stdio: 'inherit' }).on('exit', (code) =>
      code === 0 ? resolve() : reject(new Error(`npm run build exited with ${code}`)),
    );
  });
}

async function main(): Promise<void> {
  const issuer = await startTestIssuer();
  const dataDir = await mkdtemp(join(tmpdir(), 'starter-bench-'));
  // One process may open an embedded database folder at a time.
  const bareDir = await mkdtemp(join(tmpdir(), 'starter-bench-bare-'));
  const suspendedDir = await mkdtemp(join(tmpdir(), 'starter-bench-suspended-'));
  await seedSuspendedUsers(suspendedDir, SUSPENDED_USERS);
  const [projectPort, barePort, suspendedPort, baselinePort] = await Promise.all([freePort(), freePort(), freePort(), freePort()]);
  const project = (port: number, env: Record<string, string>) =>
    start('dist/main.js', {
      NODE_ENV: 'production',
      PORT: String(port),
      HOST: '127.0.0.1',
      AUTHGEAR_ENDPOINT: issuer.url,
      ...(args['database-url'] ? { DATABASE_URL: args['database-url'] } : { PGLITE_DATA_DIR: dataDir }),
      ...env,
    });
  const children = [
    project(projectPort, UNTRIPPED_LIMITS),
    project(barePort, { ...NO_LIMITS_NO_METRICS, ...(args['database-url'] ? {} : { PGLITE_DATA_DIR: bareDir }) }),
    // Always embedded: the suspended users must not reach the other servers' database.
    project(suspendedPort, { ...UNTRIPPED_LIMITS, DATABASE_URL: '', PGLITE_DATA_DIR: suspendedDir }),
    start('bench/baseline.mjs', { NODE_ENV: 'production', PORT: String(baselinePort) }),
  ];
  const urls = {
    project: `http://127.0.0.1:${projectPort}/graphql`,
    bare: `http://127.0.0.1:${barePort}/graphql`,
    suspended: `http://127.0.0.1:${suspendedPort}/graphql`,
    baseline: `http://127.0.0.1:${baselinePort}/graphql`,
  };

  try {
    await Promise.all([waitUntilServing(urls.project), waitUntilServing(urls.bare), waitUntilServing(urls.suspended), waitUntilServing(urls.baseline)]);
    // A user of its own per run: with --database-url, earlier runs' notes stay in that database.
    const token = await issuer.mint({ sub: `bench-${randomUUID()}`, verified: true, ttlSeconds: 3600, userinfo: { email: 'bench@example.com', name: 'Bench User' } });
    const auth = { ...JSON_HEADERS, authorization: `Bearer ${token}` };
    for (let i = 0; i < 10; i++) {
      await fetch(urls.project, {
        method: 'POST',
        headers: auth,
        body: JSON.stringify({ query: `mutation { createNote(input: { title: "Note ${i}", body: "A body of a few words, like a real note ${i}." }) { id } }` }),
      });
    }
    const invalid = await invalidTokens((claims, key) => issuer.mint({ sub: 'x', ttlSeconds: 3600, claims, ...(key ? { key } : {}) }));

    // The baselines: the same requests, tokens included, answered by Apollo standalone without auth.
    const baselinePublic: Scenario = { name: 'baseline: public query', target: 'baseline', requests: [{ headers: JSON_HEADERS, body: PUBLIC_QUERY }], expectStatus: 200 };
    const baselineMe: Scenario = { name: 'baseline: me, fixed viewer, no auth', target: 'baseline', requests: [{ headers: auth, body: ME_QUERY }], expectStatus: 200 };
    const baselineMeProfile: Scenario = { name: 'baseline: me { profile }, fixed', target: 'baseline', requests: [{ headers: auth, body: ME_PROFILE_QUERY }], expectStatus: 200 };
    const baselineMyNotes: Scenario = { name: 'baseline: myNotes, 10 in memory', target: 'baseline', requests: [{ headers: auth, body: MY_NOTES_QUERY }], expectStatus: 200 };
    const baselines = [baselinePublic, baselineMe, baselineMeProfile, baselineMyNotes];
    const me: Measured = { name: 'me, valid token', target: 'project', requests: [{ headers: auth, body: ME_QUERY }], expectStatus: 200, against: baselineMe };
    const measured: Measured[] = [
      { name: 'public query', target: 'project', requests: [{ headers: JSON_HEADERS, body: PUBLIC_QUERY }], expectStatus: 200, against: baselinePublic },
      me,
      { name: 'me { profile }, warm cache', target: 'project', requests: [{ headers: auth, body: ME_PROFILE_QUERY }], expectStatus: 200, against: baselineMeProfile },
      // Paired with the same `me` on the server without suspended users: the check is all that differs.
      { name: `me, ${SUSPENDED_USERS} users suspended`, target: 'suspended', requests: [{ headers: auth, body: ME_QUERY }], expectStatus: 200, against: me },
      { name: 'me, limits+metrics off', target: 'bare', requests: [{ headers: auth, body: ME_QUERY }], expectStatus: 200, against: baselineMe },
      { name: 'myNotes (10), valid token', target: 'project', requests: [{ headers: auth, body: MY_NOTES_QUERY }], expectStatus: 200, against: baselineMyNotes },
      {
        name: `invalid tokens (${invalid.length} distinct)`,
        target: 'project',
        requests: invalid.map((bad) => ({ headers: { ...JSON_HEADERS, authorization: `Bearer ${bad}` }, body: ME_QUERY })),
        expectStatus: 401,
        // The same query as `me`, refused before execution.
        against: baselineMe,
      },
    ];
    const scenarios: Scenario[] = [...baselines, ...measured];
    for (const scenario of scenarios) await check(urls[scenario.target], scenario);

    process.stderr.write(`warm-up: ${WARMUP} s per scenario\n`);
    for (const scenario of scenarios) await load(urls[scenario.target], scenario, WARMUP);

    // The machine's speed drifts within seconds, so each run of a scenario is
    // paired with a run of its baseline right next to it (in ABBA order) and
    // its ratio is taken within that pair.
    const samples = new Map<string, { sample: Sample; baseline: Sample }[]>(measured.map((s) => [s.name, []]));
    const baselineSamples = new Map<string, Sample[]>(baselines.map((b) => [b.name, []]));
    for (let round = 1; round <= ROUNDS; round++) {
      process.stderr.write(`round ${round}/${ROUNDS}\n`);
      for (const scenario of round % 2 === 1 ? measured : [...measured].reverse()) {
        const { against } = scenario;
        const pair: Sample[] = [];
        for (const current of round % 2 === 1 ? [against, scenario] : [scenario, against]) {
          pair[current === against ? 0 : 1] = await load(urls[current.target], current, DURATION);
        }
        const [base, sample] = pair as [Sample, Sample];
        baselineSamples.get(against.name)?.push(base);
        samples.get(scenario.name)?.push({ sample, baseline: base });
      }
    }

    const summary = (name: string, comparedWith: string | null, runs: Sample[], ratios: number[]) => ({
      scenario: name,
      comparedWith,
      requestsPerSecond: Math.round(median(runs.map((s) => s.rps))),
      ratioToBaseline: Math.round(median(ratios) * 100) / 100,
      latencyP50Ms: median(runs.map((s) => s.p50)),
      latencyP99Ms: median(runs.map((s) => s.p99)),
      unexpectedResponses: runs.reduce((sum, s) => sum + s.unexpected, 0),
      ratios: ratios.map((r) => Math.round(r * 100) / 100),
    });
    const rows = [
      ...baselines.map((baseline) => {
        const runs = baselineSamples.get(baseline.name) ?? [];
        return summary(baseline.name, null, runs, runs.map(() => 1));
      }),
      ...measured.map((scenario) => {
        const pairs = samples.get(scenario.name) ?? [];
        return summary(
          scenario.name,
          scenario.against.name,
          pairs.map((p) => p.sample),
          pairs.map((p) => p.sample.rps / p.baseline.rps),
        );
      }),
    ];

    // What rate limits and metrics cost: `me` with both on against `me` with both off, each paired with the baseline `me`.
    const ratioOf = (name: string) => rows.find((row) => row.scenario === name)?.ratioToBaseline ?? NaN;
    const limitsCost = Math.round((ratioOf('me, valid token') / ratioOf('me, limits+metrics off')) * 100) / 100;
    // The profile's warm path: `me { profile }` and `me`, each against the baseline answering the same query (the budget: within 5 %).
    const profileCost = Math.round((ratioOf('me { profile }, warm cache') / ratioOf('me, valid token')) * 100) / 100;
    // The webhooks' check on the request path with many refused users against none (the budget: within 2 %).
    const suspendedCost = ratioOf(`me, ${SUSPENDED_USERS} users suspended`);
    const report = {
      date: new Date().toISOString(),
      node: process.version,
      cpus: availableParallelism(),
      cpuModel: cpus()[0]?.model ?? 'unknown',
      connections: CONNECTIONS,
      database: args['database-url'] ? 'postgres' : 'pglite',
      secondsPerRun: DURATION,
      rounds: ROUNDS,
      results: rows,
      meLimitsOnVsOff: limitsCost,
      meProfileWarmVsMe: profileCost,
      meSuspendedUsersVsNone: suspendedCost,
    };
    await mkdir(dirname(args.out), { recursive: true });
    await writeFile(args.out, `${JSON.stringify(report, null, 2)}\n`);

    const pad = (text: string | number, width: number) => String(text).padStart(width);
    process.stdout.write(
      `\n${report.cpus} cores, ${report.cpuModel}, Node ${report.node}; ${report.database}; ${CONNECTIONS} connections, ${ROUNDS} rounds of ${DURATION} s pairs\n\n`,
    );
    process.stdout.write(`${'scenario'.padEnd(38)}${'ratio against'.padEnd(38)}${pad('req/s', 9)}${pad('ratio', 8)}${pad('p50 ms', 8)}${pad('p99 ms', 8)}\n`);
    for (const row of rows) {
      process.stdout.write(
        `${row.scenario.padEnd(38)}${(row.comparedWith ?? '-').padEnd(38)}${pad(row.requestsPerSecond, 9)}${pad(row.ratioToBaseline.toFixed(2), 8)}${pad(row.latencyP50Ms, 8)}${pad(row.latencyP99Ms, 8)}\n`,
      );
    }
    process.stdout.write(`\nme with rate limits and metrics on / off: ${limitsCost.toFixed(2)}\n`);
    process.stdout.write(`me { profile } with a warm cache / me: ${profileCost.toFixed(2)}\n`);
    process.stdout.write(`me with ${SUSPENDED_USERS} users suspended / me with none: ${suspendedCost.toFixed(2)}\n`);
    process.stdout.write(`\nwritten to ${args.out}\n`);
    const broken = rows.filter((row) => row.unexpectedResponses > 0);
    if (broken.length > 0) {
      throw new Error(`unexpected responses in: ${broken.map((row) => `${row.scenario} (${row.unexpectedResponses})`).join(', ')}`);
    }
  } finally {
    for (const child of children) child.kill('SIGTERM');
    await issuer.close();
    await rm(dataDir, { recursive: true, force: true });
    await rm(bareDir, { recursive: true, force: true });
    await rm(suspendedDir, { recursive: true, force: true });
  }
}

await build();
if (runs('http')) await main();
if (runs('pagination')) {
  await benchPagination({
    databaseUrl: args['database-url'] ?? process.env['BENCH_DATABASE_URL'] ?? DEFAULT_BENCH_DATABASE_URL,
    duration: DURATION,
    rounds: ROUNDS,
    warmup: WARMUP,
    connections: CONNECTIONS,
    out: join(dirname(args.out), 'pagination.json'),
  });
}
if (runs('subscriptions')) await benchSubscriptions({ databaseUrl: args['database-url'], out: join(dirname(args.out), 'subscriptions.json') });
