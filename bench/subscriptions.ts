/**
 * The subscription scenario of `npm run bench` (run.ts calls it last), or on
 * its own after a build:
 *
 *   npx tsx bench/subscriptions.ts [--subscribers 2000] [--rounds 20] [--interval 500]
 *                                  [--database-url postgres://...] [--out file.json]
 *
 * Starts this project's server (dist/main.js, NODE_ENV=production, tokens
 * from a local issuer, embedded PGlite in a temp folder unless
 * --database-url) and a yardstick (bench/subscriptions-baseline.mjs: stock
 * graphql-ws on ws, same SDL, no auth, in-process pubsub), and opens N
 * subscribers to each: raw `ws` clients speaking graphql-transport-ws, every
 * one with a distinct token of the same user, subscribed to myNoteEvents,
 * so that each createNote reaches all N. Then, alternating the servers, one
 * createNote over HTTP per interval: the time from sending it to each
 * subscriber's receipt of its event, p50 and p99 over subscribers and
 * rounds, and the server's memory per 1,000 subscribers: the growth of its
 * JS heap in use after a full garbage collection (bench/heap-probe.mjs) from
 * N/2 to N subscribers.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { availableParallelism, cpus, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import WebSocket from 'ws';
import { ROOT } from '../test/helpers/process.js';
import { startTestIssuer, type TestIssuer } from '../test/helpers/issuer.js';
import { UNTRIPPED_LIMITS } from './limits.js';

export type SubscriptionBenchOptions = {
  subscribers?: number;
  rounds?: number;
  intervalMs?: number;
  databaseUrl?: string | undefined;
  out: string;
};

type Target = 'project' | 'yardstick';
type Subscriber = { socket: WebSocket; seen: number; latencyMs: number; payload: string };
type Round = { index: number; sentAt: number; waiting: number; done: () => void };
type Side = { target: Target; child: ChildProcess; url: string; token: string | null; subscribers: Subscriber[]; round: Round | null; unexpected: number };

const EVENTS = 'subscription { myNoteEvents { kind noteId note { id title body ownerId createdAt updatedAt } } }';
const CREATE = 'mutation($input: CreateNoteInput!) { createNote(input: $input) { id } }';
const NEXT = '{"id":"1","type":"next"';
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer().listen(0, '127.0.0.1', () => {
      const address = probe.address();
      probe.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

/** A server with the heap probe preloaded, and an IPC channel to ask it. */
function start(entry: string, env: Record<string, string>): ChildProcess {
  return spawn(process.execPath, ['--expose-gc', '--import', './bench/heap-probe.mjs', entry], {
    cwd: ROOT,
    env: { PATH: process.env['PATH'], ...env },
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  });
}

async function post(url: string, query: string, variables: Record<string, unknown>, token: string | null): Promise<{ status: number; text: string }> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token === null ? {} : { authorization: `Bearer ${token}` }) },
    body: JSON.stringify({ query, variables }),
  });
  return { status: response.status, text: await response.text() };
}

async function waitUntilServing(url: string): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if ((await post(url, '{ serverInfo { name } }', {}, null).catch(() => null))?.status === 200) return;
    await sleep(200);
  }
  throw new Error(`${url} did not start within 60 s`);
}

async function rssKiB(pid: number | undefined): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? NaN);
}

/** The server's JS heap in use after a full collection (bench/heap-probe.mjs), in KiB. */
function heapUsedKiB(child: ChildProcess): Promise<number> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('the heap probe did not answer within 30 s')), 30_000);
    child.once('message', (message: { heapUsed: number }) => {
      clearTimeout(timer);
      resolve(message.heapUsed / 1024);
    });
    child.send('heap-used');
  });
}

/** One subscriber: connect, init, subscribe, and a probe query whose answer means the subscription is running. */
function subscribe(side: Side, token: string | null): Promise<Subscriber> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(side.url.replace(/^http/, 'ws'), 'graphql-transport-ws', { perMessageDeflate: false });
    const subscriber: Subscriber = { socket, seen: Number.NaN, latencyMs: 0, payload: '' };
    let ready = false;
    socket.on('error', reject);
    socket.on('close', (code) => {
      if (!ready) reject(new Error(`${side.target}: closed ${code} while subscribing`));
    });
    socket.on('open', () => socket.send(JSON.stringify({ type: 'connection_init', payload: token === null ? {} : { Authorization: `Bearer ${token}` } })));
    socket.on('message', (data: Buffer) => {
      const round = side.round;
      if (ready) {
        const text = data.toString();
        if (round === null || !text.startsWith(NEXT) || subscriber.seen === round.index) {
          side.unexpected++;
          return;
        }
        subscriber.seen = round.index;
        subscriber.latencyMs = performance.now() - round.sentAt;
        subscriber.payload = text;
        if (--round.waiting === 0) round.done();
        return;
      }
      const message = JSON.parse(data.toString()) as { id?: string; type: string };
      if (message.type === 'connection_ack') {
        socket.send(JSON.stringify({ id: '1', type: 'subscribe', payload: { query: EVENTS } }));
        socket.send(JSON.stringify({ id: 'probe', type: 'subscribe', payload: { query: '{ __typename }' } }));
      } else if (message.id === 'probe' && message.type === 'complete') {
        ready = true;
        resolve(subscriber);
      }
    });
  });
}

async function connectAll(side: Side, count: number, tokenFor: (i: number) => string | null): Promise<void> {
  const batch = 100;
  for (let first = 0; first < count; first += batch) {
    const size = Math.min(batch, count - first);
    side.subscribers.push(...(await Promise.all(Array.from({ length: size }, (_, i) => subscribe(side, tokenFor(first + i))))));
  }
}

/** One createNote; resolves with every subscriber's latency once all have the event. */
async function round(side: Side, index: number): Promise<number[]> {
  const all = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${side.target}: round ${index}: ${side.round?.waiting} subscribers still waiting after 30 s`)), 30_000);
    side.round = {
      index,
      sentAt: performance.now(),
      waiting: side.subscribers.length,
      done: () => {
        clearTimeout(timer);
        resolve();
      },
    };
  });
  const response = await post(side.url, CREATE, { input: { title: `round ${index}`, body: `A body of a few words, like a real note, in round ${index}.` } }, side.token);
  await all;
  const id = (JSON.parse(response.text) as { data?: { createNote?: { id?: string } } }).data?.createNote?.id;
  if (id === undefined) throw new Error(`${side.target}: createNote answered ${response.status} ${response.text.slice(0, 300)}`);
  for (const subscriber of side.subscribers) {
    if (!subscriber.payload.includes(id) || subscriber.payload.includes('"errors"')) throw new Error(`${side.target}: wrong event ${subscriber.payload.slice(0, 300)}`);
  }
  side.round = null;
  return side.subscribers.map((s) => s.latencyMs);
}

const percentile = (values: number[], p: number): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? NaN;
};
const ms = (value: number) => Math.round(value * 10) / 10;

export async function benchSubscriptions(options: SubscriptionBenchOptions): Promise<void> {
  const subscribers = options.subscribers ?? 2000;
  const rounds = options.rounds ?? 20;
  const intervalMs = options.intervalMs ?? 500;
  process.stderr.write(`subscriptions: ${subscribers} subscribers per server, ${rounds} rounds each, one mutation per ${intervalMs} ms\n`);

  let issuer: TestIssuer | null = null;
  const dataDir = await mkdtemp(join(tmpdir(), 'starter-bench-ws-'));
  const sides: Side[] = [];
  try {
    issuer = await startTestIssuer();
    const owner = `bench-owner-${randomUUID()}`;
    const [projectPort, yardstickPort] = await Promise.all([freePort(), freePort()]);
    sides.push({
      target: 'project',
      child: start('dist/main.js', {
        NODE_ENV: 'production',
        PORT: String(projectPort),
        HOST: '127.0.0.1',
        AUTHGEAR_ENDPOINT: issuer.url,
        // Every subscriber is the same user here, so that each mutation reaches all of them.
        SUBSCRIPTION_MAX_CONNECTIONS_PER_VIEWER: String(subscribers + 10),
        ...UNTRIPPED_LIMITS,
        ...(options.databaseUrl ? { DATABASE_URL: options.databaseUrl } : { PGLITE_DATA_DIR: dataDir }),
      }),
      url: `http://127.0.0.1:${projectPort}/graphql`,
      token: await issuer.mint({ sub: owner, verified: true, ttlSeconds: 3600 }),
      subscribers: [],
      round: null,
      unexpected: 0,
    });
    sides.push({
      target: 'yardstick',
      child: start('bench/subscriptions-baseline.mjs', { NODE_ENV: 'production', PORT: String(yardstickPort) }),
      url: `http://127.0.0.1:${yardstickPort}/graphql`,
      token: null,
      subscribers: [],
      round: null,
      unexpected: 0,
    });
    const [project, yardstick] = sides as [Side, Side];
    await Promise.all(sides.map((side) => waitUntilServing(side.url)));

    const tokens: string[] = [];
    for (let i = 0; i < subscribers; i++) tokens.push(await issuer.mint({ sub: owner, ttlSeconds: 3600 }));
    const heap: Record<Target, { before: number; after: number }> = { project: { before: 0, after: 0 }, yardstick: { before: 0, after: 0 } };
    const rssAtAll: Record<Target, number> = { project: 0, yardstick: 0 };
    // Memory per subscriber is the slope between half and all of them, each after a few events,
    // so that start-up and first-use allocations are in both readings.
    const half = Math.floor(subscribers / 2);
    let warmRound = -1;
    for (const side of sides) {
      const started = performance.now();
      const tokenFor = (i: number) => (side === project ? (tokens[i] as string) : null);
      await connectAll(side, half, tokenFor);
      for (let warm = 0; warm < 3; warm++) await round(side, warmRound--);
      heap[side.target].before = await heapUsedKiB(side.child);
      await connectAll(side, subscribers - half, (i) => tokenFor(half + i));
      for (let warm = 0; warm < 3; warm++) await round(side, warmRound--);
      heap[side.target].after = await heapUsedKiB(side.child);
      rssAtAll[side.target] = await rssKiB(side.child.pid);
      process.stderr.write(`${side.target}: ${subscribers} subscribers connected and warmed up in ${Math.round(performance.now() - started)} ms\n`);
    }

    const latencies: Record<Target, number[]> = { project: [], yardstick: [] };
    const perRound: Record<Target, number[]> = { project: [], yardstick: [] };
    for (let index = 0; index < rounds; index++) {
      for (const side of index % 2 === 0 ? [project, yardstick] : [yardstick, project]) {
        const began = performance.now();
        const samples = await round(side, index);
        latencies[side.target].push(...samples);
        perRound[side.target].push(ms(percentile(samples, 99)));
        await sleep(Math.max(0, intervalMs - (performance.now() - began)));
      }
    }

    const summary = (side: Side) => ({
      server: side.target === 'project' ? 'this project (auth, shield, LISTEN/NOTIFY)' : 'yardstick: stock graphql-ws, no auth, in-process pubsub',
      subscribers,
      fanOutP50Ms: ms(percentile(latencies[side.target], 50)),
      fanOutP99Ms: ms(percentile(latencies[side.target], 99)),
      p99PerRoundMs: perRound[side.target],
      heapPer1000SubscribersMiB: Math.round(((heap[side.target].after - heap[side.target].before) / 1024 / (subscribers - half)) * 1000 * 10) / 10,
      heapAtHalfMiB: Math.round(heap[side.target].before / 1024),
      heapAtAllMiB: Math.round(heap[side.target].after / 1024),
      rssAtAllMiB: Math.round(rssAtAll[side.target] / 1024),
      unexpectedMessages: side.unexpected,
    });
    const results = [summary(project), summary(yardstick)];
    const [ours, theirs] = results as [ReturnType<typeof summary>, ReturnType<typeof summary>];
    const report = {
      date: new Date().toISOString(),
      node: process.version,
      cpus: availableParallelism(),
      cpuModel: cpus()[0]?.model ?? 'unknown',
      database: options.databaseUrl ? 'postgres' : 'pglite',
      subscribers,
      rounds,
      intervalMs,
      tokens: 'a distinct token per subscriber, all of one user (myNoteEvents reaches a user\'s own subscribers only)',
      p99Ratio: Math.round((ours.fanOutP99Ms / theirs.fanOutP99Ms) * 100) / 100,
      p50Ratio: Math.round((ours.fanOutP50Ms / theirs.fanOutP50Ms) * 100) / 100,
      results,
    };
    await mkdir(dirname(options.out), { recursive: true });
    await writeFile(options.out, `${JSON.stringify(report, null, 2)}\n`);

    const pad = (text: string | number, width: number) => String(text).padStart(width);
    process.stdout.write(`\nsubscriptions: ${subscribers} subscribers per server, ${rounds} rounds, ${report.database}\n\n`);
    process.stdout.write(`${'server'.padEnd(58)}${pad('p50 ms', 9)}${pad('p99 ms', 9)}${pad('heap MiB/1000', 15)}\n`);
    for (const row of results) process.stdout.write(`${row.server.padEnd(58)}${pad(row.fanOutP50Ms, 9)}${pad(row.fanOutP99Ms, 9)}${pad(row.heapPer1000SubscribersMiB, 15)}\n`);
    process.stdout.write('heap MiB/1000: growth of the JS heap in use after a full garbage collection, from half to all subscribers\n');
    process.stdout.write(`\nfan-out p99 vs the yardstick: ${report.p99Ratio.toFixed(2)} (target <= 1.25); p50: ${report.p50Ratio.toFixed(2)}\nwritten to ${options.out}\n`);
    const unexpected = results.filter((row) => row.unexpectedMessages > 0);
    if (unexpected.length > 0) throw new Error(`unexpected messages: ${unexpected.map((row) => `${row.server} (${row.unexpectedMessages})`).join(', ')}`);
  } finally {
    for (const side of sides) for (const subscriber of side.subscribers) subscriber.socket.terminate();
    for (const side of sides) side.child.kill('SIGTERM');
    await issuer?.close();
    await rm(dataDir, { recursive: true, force: true });
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { values: args } = parseArgs({
    options: {
      subscribers: { type: 'string', default: '2000' },
      rounds: { type: 'string', default: '20' },
      interval: { type: 'string', default: '500' },
      'database-url': { type: 'string' },
      out: { type: 'string', default: join(ROOT, 'bench', 'results', 'subscriptions.json') },
    },
  });
  await new Promise<void>((resolve, reject) => {
    spawn('npm', ['run', '--silent', 'build'], { cwd: ROOT, stdio: 'inherit' }).on('exit', (code) =>
      code === 0 ? resolve() : reject(new Error(`npm run build exited with ${code}`)),
    );
  });
  await benchSubscriptions({
    subscribers: Number(args.subscribers),
    rounds: Number(args.rounds),
    intervalMs: Number(args.interval),
    databaseUrl: args['database-url'],
    out: args.out,
  });
}
