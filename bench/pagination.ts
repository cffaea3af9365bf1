/**
 * The pagination figures of npm run bench, on a PostgreSQL server (bench/run.ts
 * calls this at its end; it expects dist/ to be built).
 *
 * 1. Does a page cost more in a big table, or deep in a list? One owner with
 *    1,000 notes, in a table of 1,000,000 notes (the rest spread over 10,000
 *    other owners) and in a table of just those 1,000: myNotes(first: 20) at
 *    page 1 and at page 50, each big-table run paired with a small-table run.
 * 2. What does the project's stack cost over the query itself? The same
 *    page against a yardstick (bench/pagination-baseline.mjs: Apollo
 *    standalone, the same keyset SQL through pg, no auth), both on the big
 *    table.
 *
 * Each run of a figure is paired with its counterpart right next to it, in
 * ABBA order, and the ratio is taken within the pair; figures are medians over
 * the rounds. Scratch databases are created per run and dropped after.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { availableParallelism, cpus } from 'node:os';
import { dirname } from 'node:path';
import { performance } from 'node:perf_hooks';
import autocannon from 'autocannon';
import pg from 'pg';
import { migrate } from '../src/db/migrations.js';
import { migrationsOf } from '../src/module.js';
import { modules } from '../src/modules/index.js';
import { openPostgres } from '../src/db/postgres.js';
import { startTestIssuer } from '../test/helpers/issuer.js';
import { ROOT } from '../test/helpers/process.js';
import { UNTRIPPED_LIMITS } from './limits.js';

export const DEFAULT_BENCH_DATABASE_URL = 'postgres://postgres@127.0.0.1:5432/postgres';

export type PaginationBenchOptions = Readonly<{
  /** A server where databases may be created and dropped. */
  databaseUrl: string;
  duration: number;
  rounds: number;
  warmup: number;
  connections: number;
  out: string;
}>;

const OWNER = 'bench-pager';
const OWNER_NOTES = 1000;
const TABLE_NOTES = 1_000_000;
const OTHER_OWNERS = 10_000;
const PAGE_SIZE = 20;
const DEEP_PAGE = 50;
const JSON_HEADERS = { 'content-type': 'application/json' };
const PAGE_QUERY =
  'query Page($after: String) { myNotes(first: 20, after: $after) { edges { cursor node { id title body createdAt } } pageInfo { hasNextPage endCursor } } }';

type Target = { url: string; headers: Record<string, string>; body: string };
type Sample = { rps: number; p50: number; p99: number; unexpected: number };
type Pair = { name: string; a: Target; b: Target; target: number };

/**
 * Every OWNER_NOTES-th row is the owner's, a second apart like the rest, so
 * its notes lie spread through the whole table and the small table holds
 * exactly the same rows of it. The others are numbered in a row of their own
 * and dealt round the OTHER_OWNERS.
 */
function seedSql(onlyTheOwner: boolean): string {
  const every = TABLE_NOTES / OWNER_NOTES;
  const series = onlyTheOwner ? `generate_series(${every}, ${TABLE_NOTES}, ${every})` : `generate_series(1, ${TABLE_NOTES})`;
  return `INSERT INTO notes (owner_id, title, body, created_at, updated_at)
    SELECT CASE WHEN i % ${every} = 0 THEN '${OWNER}' ELSE 'owner-' || ((i - i / ${every} - 1) % ${OTHER_OWNERS}) END,
           'Note ' || i, 'A body of a few words, like a real note ' || i, at, at
    FROM ${series} AS i, LATERAL (SELECT timestamptz '2026-01-01 00:00:00+00' - i * interval '1 second' AS at) AS t`;
}

const redacted = (url: string): string => {
  const parsed = new URL(url);
  if (parsed.password !== '') parsed.password = '***';
  return parsed.href;
};

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer().listen(0, '127.0.0.1', () => {
      const address = probe.address();
      probe.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

function start(entry: string, env: Record<string, string>): ChildProcess {
  return spawn(process.execPath, [entry], { cwd: ROOT, env: { PATH: process.env['PATH'], ...env }, stdio: ['ignore', 'ignore', 'inherit'] });
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  await exited;
}

async function waitUntilServing(url: string): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    try {
      const response = await fetch(url, { method: 'POST', headers: JSON_HEADERS, body: '{"query":"{ serverInfo { name } }"}' });
      if (response.status === 200) return;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`${url} did not start within 60 s`);
}

type PageAnswer = { edges: { node: { title: string } }[]; pageInfo: { hasNextPage: boolean; endCursor: string | null } };

async function fetchPage(target: Target): Promise<PageAnswer> {
  const response = await fetch(target.url, { method: 'POST', headers: target.headers, body: target.body });
  const text = await response.text();
  const body = JSON.parse(text) as { data?: { myNotes?: PageAnswer }; errors?: unknown };
  if (response.status !== 200 || body.errors !== undefined || body.data?.myNotes === undefined) {
    throw new Error(`${target.url}: HTTP ${response.status} ${text.slice(0, 300)}`);
  }
  return body.data.myNotes;
}

const pageTarget = (url: string, headers: Record<string, string>, after: string | null): Target => ({
  url,
  headers,
  body: JSON.stringify({ query: PAGE_QUERY, variables: { after } }),
});

/** The request for page `page` of the owner's list, reached by following endCursor from the start. */
async function requestForPage(url: string, headers: Record<string, string>, page: number): Promise<Target> {
  let after: string | null = null;
  for (let current = 1; current < page; current++) {
    const answer = await fetchPage(pageTarget(url, headers, after));
    if (!answer.pageInfo.hasNextPage) throw new Error(`${url}: the list ended at page ${current}`);
    after = answer.pageInfo.endCursor;
  }
  return pageTarget(url, headers, after);
}

async function load(target: Target, seconds: number, connections: number): Promise<Sample> {
  const result = await autocannon({
    url: target.url,
    connections,
    duration: seconds,
    method: 'POST',
    headers: target.headers,
    body: target.body,
  });
  const ok = (result.statusCodeStats as Record<string, { count: number } | undefined>)['200']?.count ?? 0;
  return {
    rps: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    unexpected: result.requests.total - ok + result.errors + result.timeouts,
  };
}

const median = (values: number[]): number => {
  const sorted = [...values].sort((x, y) => x - y);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[middle] as number) : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
};
const round2 = (value: number) => Math.round(value * 100) / 100;

async function reachable(url: string): Promise<string | null> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3000 });
  try {
    await client.connect();
    return null;
  } catch (error) {
    return (error as Error).message;
  } finally {
    await client.end().catch(() => undefined);
  }
}

async function withAdmin<T>(url: string, work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

/** Creates a database with the project's schema and the seed rows; returns its URL and how long seeding took. */
async function seededDatabase(serverUrl: string, name: string, onlyTheOwner: boolean): Promise<{ url: string; seedSeconds: number }> {
  await withAdmin(serverUrl, (client) => client.query(`CREATE DATABASE ${name}`));
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  const db = await openPostgres(url.href, () => undefined);
  try {
    await migrate(db, migrationsOf(modules));
    const started = performance.now();
    await db.query(seedSql(onlyTheOwner));
    await db.query('VACUUM ANALYZE notes');
    return { url: url.href, seedSeconds: (performance.now() - started) / 1000 };
  } finally {
    await db.close();
  }
}

export async function benchPagination(options: PaginationBenchOptions): Promise<void> {
  const unreachable = await reachable(options.databaseUrl);
  if (unreachable !== null) {
    process.stdout.write(
      `\npagination figures skipped: no PostgreSQL server at ${redacted(options.databaseUrl)} (${unreachable}).\n` +
        'Give one with --database-url or BENCH_DATABASE_URL (databases are created there and dropped after).\n',
    );
    return;
  }
  const prefix = `bench_pages_${process.pid}_${randomBytes(3).toString('hex')}`;
  const names = { big: `${prefix}_big`, small: `${prefix}_small` };
  const children: ChildProcess[] = [];
  const issuer = await startTestIssuer();
  try {
    process.stderr.write(`pagination: seeding ${TABLE_NOTES.toLocaleString('en')} notes\n`);
    const big = await seededDatabase(options.databaseUrl, names.big, false);
    const small = await seededDatabase(options.databaseUrl, names.small, true);
    process.stderr.write(`pagination: seeded in ${big.seedSeconds.toFixed(1)} s (one INSERT ... SELECT generate_series, then VACUUM ANALYZE)\n`);

    const [bigPort, smallPort, yardstickPort] = await Promise.all([freePort(), freePort(), freePort()]);
    const project = (port: number, databaseUrl: string) =>
      start('dist/main.js', { NODE_ENV: 'production', PORT: String(port), HOST: '127.0.0.1', AUTHGEAR_ENDPOINT: issuer.url, DATABASE_URL: databaseUrl, ...UNTRIPPED_LIMITS });
    children.push(
      project(bigPort, big.url),
      project(smallPort, small.url),
      start('bench/pagination-baseline.mjs', { NODE_ENV: 'production', PORT: String(yardstickPort), DATABASE_URL: big.url, BENCH_OWNER: OWNER }),
    );
    const urls = {
      big: `http://127.0.0.1:${bigPort}/graphql`,
      small: `http://127.0.0.1:${smallPort}/graphql`,
      yardstick: `http://127.0.0.1:${yardstickPort}/graphql`,
    };
    await Promise.all(Object.values(urls).map(waitUntilServing));

    const token = await issuer.mint({ sub: OWNER, ttlSeconds: 3600 });
    const auth = { ...JSON_HEADERS, authorization: `Bearer ${token}` };
    const targets = {
      bigFirst: await requestForPage(urls.big, auth, 1),
      bigDeep: await requestForPage(urls.big, auth, DEEP_PAGE),
      smallFirst: await requestForPage(urls.small, auth, 1),
      smallDeep: await requestForPage(urls.small, auth, DEEP_PAGE),
      yardstickFirst: await requestForPage(urls.yardstick, JSON_HEADERS, 1),
    };
    // Both tables must give the same owner the same pages, or the comparison means nothing.
    const titles = async (target: Target) => (await fetchPage(target)).edges.map((edge) => edge.node.title).join();
    for (const [one, other] of [
      [targets.bigFirst, targets.smallFirst],
      [targets.bigDeep, targets.smallDeep],
      [targets.bigFirst, targets.yardstickFirst],
    ] as const) {
      const [a, b] = await Promise.all([titles(one), titles(other)]);
      if (a !== b || a.split(',').length !== PAGE_SIZE) throw new Error(`pages differ:\n${a}\n${b}`);
    }
    if ((await fetchPage(targets.bigDeep)).pageInfo.hasNextPage) throw new Error(`page ${DEEP_PAGE} should be the last`);

    const pairs: Pair[] = [
      { name: `page 1: 1M-note table vs ${OWNER_NOTES}-note table`, a: targets.bigFirst, b: targets.smallFirst, target: 0.9 },
      { name: `page ${DEEP_PAGE}: 1M-note table vs ${OWNER_NOTES}-note table`, a: targets.bigDeep, b: targets.smallDeep, target: 0.9 },
      { name: `page ${DEEP_PAGE} vs page 1, 1M-note table`, a: targets.bigDeep, b: targets.bigFirst, target: 0.9 },
      { name: 'myNotes(first: 20): project vs yardstick', a: targets.bigFirst, b: targets.yardstickFirst, target: 0.85 },
    ];

    process.stderr.write(`pagination: warm-up ${options.warmup} s per server and page\n`);
    for (const target of Object.values(targets)) await load(target, options.warmup, options.connections);

    const samples = pairs.map(() => [] as { a: Sample; b: Sample }[]);
    for (let round = 1; round <= options.rounds; round++) {
      process.stderr.write(`pagination: round ${round}/${options.rounds}\n`);
      const order = round % 2 === 1 ? pairs.map((_, i) => i) : pairs.map((_, i) => pairs.length - 1 - i);
      for (const index of order) {
        const pair = pairs[index] as Pair;
        const taken: Partial<Record<'a' | 'b', Sample>> = {};
        for (const side of round % 2 === 1 ? (['a', 'b'] as const) : (['b', 'a'] as const)) {
          taken[side] = await load(pair[side], options.duration, options.connections);
        }
        samples[index]?.push(taken as { a: Sample; b: Sample });
      }
    }

    const rows = pairs.map((pair, index) => {
      const runs = samples[index] ?? [];
      const ratios = runs.map((run) => run.a.rps / run.b.rps);
      return {
        figure: pair.name,
        requestsPerSecondA: Math.round(median(runs.map((run) => run.a.rps))),
        requestsPerSecondB: Math.round(median(runs.map((run) => run.b.rps))),
        ratio: round2(median(ratios)),
        target: pair.target,
        latencyP50MsA: median(runs.map((run) => run.a.p50)),
        latencyP99MsA: median(runs.map((run) => run.a.p99)),
        unexpectedResponses: runs.reduce((sum, run) => sum + run.a.unexpected + run.b.unexpected, 0),
        ratios: ratios.map(round2),
      };
    });
    const report = {
      date: new Date().toISOString(),
      node: process.version,
      cpus: availableParallelism(),
      cpuModel: cpus()[0]?.model ?? 'unknown',
      postgres: await withAdmin(options.databaseUrl, async (client) => (await client.query<{ v: string }>("SELECT current_setting('server_version') AS v")).rows[0]?.v),
      connections: options.connections,
      secondsPerRun: options.duration,
      rounds: options.rounds,
      tableNotes: TABLE_NOTES,
      ownerNotes: OWNER_NOTES,
      seedSeconds: round2(big.seedSeconds),
      results: rows,
    };
    await mkdir(dirname(options.out), { recursive: true });
    await writeFile(options.out, `${JSON.stringify(report, null, 2)}\n`);

    const pad = (text: string | number, width: number) => String(text).padStart(width);
    process.stdout.write(
      `\npagination on PostgreSQL ${report.postgres}: ${TABLE_NOTES.toLocaleString('en')} notes seeded in ${big.seedSeconds.toFixed(1)} s; ` +
        `${options.connections} connections, ${options.rounds} rounds of ${options.duration} s pairs\n\n`,
    );
    process.stdout.write(`${'figure (A vs B)'.padEnd(46)}${pad('A req/s', 9)}${pad('B req/s', 9)}${pad('ratio', 7)}${pad('target', 8)}${pad('A p50', 7)}${pad('A p99', 7)}\n`);
    for (const row of rows) {
      process.stdout.write(
        `${row.figure.padEnd(46)}${pad(row.requestsPerSecondA, 9)}${pad(row.requestsPerSecondB, 9)}${pad(row.ratio.toFixed(2), 7)}${pad(`>=${row.target}`, 8)}${pad(row.latencyP50MsA, 7)}${pad(row.latencyP99MsA, 7)}\n`,
      );
    }
    process.stdout.write(`\nwritten to ${options.out}\n`);
    const broken = rows.filter((row) => row.unexpectedResponses > 0);
    if (broken.length > 0) throw new Error(`unexpected responses in: ${broken.map((row) => `${row.figure} (${row.unexpectedResponses})`).join(', ')}`);
  } finally {
    await Promise.all(children.map(stopChild));
    await issuer.close();
    await withAdmin(options.databaseUrl, async (client) => {
      for (const name of Object.values(names)) await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    });
  }
}
