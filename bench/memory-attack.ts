/**
 * The security review's memory attack, replayed against a server process of
 * its own (issue 22, finding 2): one verified user stores 100 notes of
 * 20,000 characters, then sends 45 copies at once of a page that asks for
 * each body 15 times under aliases. It reports the server's resident memory
 * (peak and before), the slowest /healthz answer during the attack, and the
 * statuses and codes the 45 got. The review's bar: RSS under 512 MB and
 * /healthz within 1 s.
 *
 *   npx tsx bench/memory-attack.ts                       # this checkout, default limits
 *   npx tsx bench/memory-attack.ts RATE_LIMIT_POINTS=0   # without the budget: the other bounds alone
 *   ATTACK_ROOT=/path/to/an/older/checkout npx tsx bench/memory-attack.ts
 *
 * With TEST_DATABASE_URL set the server stores its notes in a scratch
 * database on that PostgreSQL server, as in production; otherwise in the
 * embedded PGlite, whose own heap adds a few hundred MB to every figure.
 *
 * Not part of `npm run bench`: it is a security check, and it needs a few
 * hundred MB when the server is not bounded.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { scratchDatabase, TEST_DATABASE_URL } from '../test/helpers/databases.js';
import { freePort, ROOT } from '../test/helpers/process.js';

const NOTES = 100;
const BODY_CHARACTERS = 20_000;
const ALIASES = 15;
const AT_ONCE = 45;
const SAMPLE_MS = 25;

const root = process.env['ATTACK_ROOT'] ?? ROOT;
const overrides = Object.fromEntries(process.argv.slice(2).map((pair) => pair.split('=', 2) as [string, string]));

function rssBytes(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? 0) * 1024;
}

const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(0)} MB`;

async function main(): Promise<void> {
  const port = await freePort();
  const keyDir = await mkdtemp(join(tmpdir(), 'memory-attack-'));
  const database = TEST_DATABASE_URL === undefined ? null : await scratchDatabase('postgres');
  const child = spawn(process.execPath, ['--import', 'tsx', join(root, 'src/main.ts')], {
    cwd: root,
    env: {
      PATH: process.env['PATH'],
      NODE_ENV: 'development',
      HOST: '127.0.0.1',
      PORT: String(port),
      LOG_LEVEL: 'warn',
      DEV_ISSUER_DIR: keyDir,
      ...(database === null ? {} : { DATABASE_URL: database.url ?? '' }),
      ...overrides,
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
  try {
    const token = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no dev token printed within 60 s:\n${out}`)), 60_000);
      child.stdout.on('data', () => {
        const found = /^\s*(eyJ[\w-]+\.[\w-]+\.[\w-]+)\s*$/m.exec(out)?.[1];
        if (found === undefined) return;
        clearTimeout(timer);
        resolve(found);
      });
    });
    const url = `http://127.0.0.1:${port}/graphql`;
    const post = async (query: string, variables?: Record<string, unknown>) => {
      const response = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: JSON.stringify({ query, variables }),
      });
      const text = await response.text();
      return { status: response.status, length: text.length, code: /"code":"([A-Z_]+)"/.exec(text)?.[1] ?? null };
    };

    const body = 'x'.repeat(BODY_CHARACTERS);
    for (let i = 0; i < NOTES; i++) {
      const created = await post('mutation($b: String!) { createNote(input: { title: "big", body: $b }) { id } }', { b: body });
      if (created.status !== 200 || created.code !== null) throw new Error(`seeding failed: ${JSON.stringify(created)}`);
    }

    const pid = child.pid as number;
    const before = rssBytes(pid);
    let peak = before;
    const sampler = setInterval(() => (peak = Math.max(peak, rssBytes(pid))), SAMPLE_MS);
    let slowestHealth = 0;
    let attacking = true;
    const health = (async () => {
      while (attacking) {
        const started = performance.now();
        await fetch(`http://127.0.0.1:${port}/healthz`).then((response) => response.arrayBuffer());
        slowestHealth = Math.max(slowestHealth, performance.now() - started);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    })();

    const wide = `{ myNotes(first: ${NOTES}) { edges { node { ${Array.from({ length: ALIASES }, (_, i) => `b${i}: body`).join(' ')} } } } }`;
    const started = performance.now();
    const answers = await Promise.all(Array.from({ length: AT_ONCE }, () => post(wide)));
    const elapsed = performance.now() - started;
    attacking = false;
    await health;
    await new Promise((resolve) => setTimeout(resolve, 200));
    clearInterval(sampler);

    const outcomes = new Map<string, number>();
    for (const { status, code } of answers) outcomes.set(`${status} ${code ?? 'ok'}`, (outcomes.get(`${status} ${code ?? 'ok'}`) ?? 0) + 1);
    const largest = Math.max(...answers.map((answer) => answer.length));
    console.log(
      JSON.stringify(
        {
          root,
          database: database === null ? 'pglite' : 'postgres',
          overrides,
          rssBefore: mb(before),
          rssPeak: mb(peak),
          slowestHealthzMs: Math.round(slowestHealth),
          attackMs: Math.round(elapsed),
          largestResponse: mb(largest),
          outcomes: Object.fromEntries(outcomes),
          verdict: peak < 512 * 1024 * 1024 && slowestHealth < 1000 ? 'bounded' : 'NOT bounded',
        },
        null,
        2,
      ),
    );
  } finally {
    child.kill('SIGTERM');
    await new Promise((resolve) => child.once('exit', resolve));
    await rm(keyDir, { recursive: true, force: true });
    await database?.drop();
  }
}

await main();
