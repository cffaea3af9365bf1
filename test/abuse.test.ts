import { request as httpRequest } from 'node:http';
import { connect } from 'node:net';
import { base64url, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateSigningKey, type SigningKey } from '../src/auth/dev-issuer.js';
import { codes, execute, fragmentBomb, show, wideLeafPage } from './helpers/graphql.js';
import { startTestIssuer, type TestIssuer } from './helpers/issuer.js';
import { startServer, testDatabase, type TestServer } from './helpers/server.js';

// Thousands of malformed headers, tokens and documents against a
// production-mode server, generated from a fixed seed (ABUSE_SEED overrides
// it) and bounded in count and time. The server must never answer 5xx, must
// still serve afterwards, and must not have changed a stored note.

const SEED = Number(process.env['ABUSE_SEED'] ?? 20261123);
const TIME_BUDGET_MS = 45_000;
const CONCURRENCY = 16;

function randomSource(seed: number) {
  let state = seed >>> 0;
  const next = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (max: number) => Math.floor(next() * max);
  const pick = <T>(items: readonly T[]): T => items[int(items.length)] as T;
  const chars = (alphabet: string, length: number) => Array.from({ length }, () => alphabet[int(alphabet.length)]).join('');
  return { next, int, pick, chars };
}

const rand = randomSource(SEED);
const PRINTABLE = Array.from({ length: 95 }, (_, i) => String.fromCharCode(32 + i)).join('');
const B64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
const LATIN1 = Array.from({ length: 96 }, (_, i) => String.fromCharCode(160 + i)).join('');
const GRAPHQL_LEXICON = ['{', '}', '(', ')', '[', ']', ':', '$', '!', '@', '...', '=', '|', '&', 'query', 'mutation', 'subscription', 'fragment', 'on', 'me', 'id', 'serverInfo', 'name', 'myNotes', 'note', 'allNotes', 'createNote', 'deleteNote', 'updateNote', 'input', 'title', 'body', '__schema', '__type', '__typename', 'true', 'null', '"str"', '"""block"""', '0', '-1', '1e999', 'ID', 'String!', '[Int]', '#comment\n', ',', 'include', 'skip', 'if', 'Note', 'edges', 'node', 'pageInfo', 'endCursor', 'first', 'after', 'ownerId', '\\u0000', '"\\ud800"'];

type Case = { label: string; send: () => Promise<number> };

let issuer: TestIssuer;
let server: TestServer;
let victimToken: string;
let attackerToken: string;
let attackerKey: SigningKey;
let victimNotes: string;
const victimNoteIds: string[] = [];
let victimCursor: string;

const VICTIM_QUERY = '{ myNotes { edges { cursor node { id title body ownerId createdAt updatedAt } } pageInfo { hasNextPage endCursor } } }';
const PAGE_QUERY = 'query($f: Int, $a: String) { myNotes(first: $f, after: $a) { edges { cursor node { id title } } pageInfo { endCursor } } }';
const cursorOf = (payload: unknown) => base64url.encode(JSON.stringify(payload));

beforeAll(async () => {
  issuer = await startTestIssuer();
  server = await startServer({
    env: { NODE_ENV: 'production', DATABASE_URL: 'postgres://unused.invalid/app', AUTHGEAR_ENDPOINT: issuer.url, LOG_LEVEL: 'warn' },
    deps: { database: await testDatabase() },
  });
  attackerKey = await generateSigningKey();
  victimToken = await issuer.mint({ sub: 'victim', verified: true, ttlSeconds: 3600 });
  attackerToken = await issuer.mint({ sub: 'attacker', verified: true, ttlSeconds: 3600 });
  for (const title of ['plans', 'diary', 'passwords']) {
    const created = await execute(server.url, 'mutation($t: String!) { createNote(input: { title: $t, body: "secret" }) { id } }', {
      token: victimToken,
      variables: { t: title },
    });
    victimNoteIds.push((created.body.data?.['createNote'] as { id: string }).id);
  }
  victimNotes = (await execute(server.url, VICTIM_QUERY, { token: victimToken })).text;
  const firstPage = await execute(server.url, PAGE_QUERY, { token: victimToken, variables: { f: 1 } });
  victimCursor = (firstPage.body.data?.['myNotes'] as { pageInfo: { endCursor: string } }).pageInfo.endCursor;
});
afterAll(async () => {
  await server.stop();
  await issuer.close();
});

async function post(body: string, headers: Record<string, string> = {}, method = 'POST', path = '/graphql'): Promise<number> {
  const response = await fetch(`${server.origin}${path}`, {
    method,
    headers: { 'content-type': 'application/json', ...headers },
    ...(method === 'GET' || method === 'HEAD' ? {} : { body }),
  });
  await response.arrayBuffer();
  return response.status;
}

const QUERIES = ['{ me { id } }', '{ serverInfo { name } }', VICTIM_QUERY, '{ allNotes { edges { node { id title } } } }'];
const gqlBody = (query: string = rand.pick(QUERIES)) => JSON.stringify({ query });

function headerCases(count: number): Case[] {
  const schemes = ['Bearer', 'bearer', 'BEARER', 'Basic', 'Digest', 'Token', 'JWT', 'Bearer,', 'Bearer:', 'Negotiate', ''];
  return Array.from({ length: count }, (_, i) => {
    const variant = i % 5;
    let value: string;
    if (variant === 0) value = rand.chars(PRINTABLE, rand.int(200));
    else if (variant === 1) value = `${rand.pick(schemes)}${' '.repeat(rand.int(3))}${rand.chars(PRINTABLE, rand.int(120))}`;
    else if (variant === 2) value = `Bearer ${rand.chars(B64URL + '.~+/=', rand.pick([8000, 8192, 8193, 9000]))}`;
    else if (variant === 3) value = `Bearer ${rand.chars(LATIN1 + B64URL, rand.int(100) + 1)}`;
    else value = `${rand.pick(schemes)} ${victimToken.slice(0, rand.int(victimToken.length))}${rand.chars(PRINTABLE, rand.int(4))}`;
    return { label: `header #${i} ${JSON.stringify(value.slice(0, 60))}`, send: () => post(gqlBody(), { authorization: value }) };
  });
}

function segment(value: unknown): string {
  return base64url.encode(typeof value === 'string' ? value : JSON.stringify(value));
}

async function tokenCases(count: number): Promise<Case[]> {
  const kid = issuer.issuer.signingKey.kid;
  const algs: unknown[] = ['none', 'HS256', 'RS512', 'ES256', 'PS256', 'RS256 ', '', null, 123, ['RS256'], 'rs256'];
  const kids: unknown[] = [kid, 'unknown', 123, null, {}, '../../../etc/passwd', 'x'.repeat(2000), [kid]];
  const typs: unknown[] = ['at+jwt', 'JWT', 'application/at+jwt', 'AT+JWT', '', 42, null];
  const now = Math.floor(Date.now() / 1000);
  const payloads: unknown[] = [
    { sub: 'attacker', exp: '9999999999', iat: now },
    { sub: 42, exp: now + 600, iat: now, iss: issuer.url, aud: [issuer.url] },
    { sub: 'victim', exp: now + 600, iat: now, iss: [issuer.url], aud: { a: 1 } },
    { sub: 'victim', exp: 1e308, iat: -1e308, iss: issuer.url, aud: issuer.url },
    [1, 2, 3],
    'just a string',
    12345,
    { sub: 'victim', nested: JSON.parse('['.repeat(500) + ']'.repeat(500)) as unknown },
    {},
  ];
  const cases: Case[] = [];
  // Well-signed tokens with hostile claims: they reach claim validation.
  const signed = await Promise.all(
    Array.from({ length: 60 }, (_, i) =>
      new SignJWT(rand.pick(payloads.filter((p) => typeof p === 'object' && !Array.isArray(p))) as Record<string, unknown>)
        .setProtectedHeader({ alg: 'RS256', typ: rand.pick(['at+jwt', 'JWT']), kid: i % 3 === 0 ? kid : rand.pick([kid, 'other']) })
        .sign(i % 2 === 0 ? issuer.issuer.signingKey.privateKey : attackerKey.privateKey),
    ),
  );
  // An attacker's key embedded in the header (jwk) and pointed at by jku/x5u: never trusted.
  const embedded = await new SignJWT({ sub: 'victim', iss: issuer.url, aud: [issuer.url], iat: now, exp: now + 600 })
    .setProtectedHeader({ alg: 'RS256', typ: 'at+jwt', kid: attackerKey.kid, jwk: attackerKey.publicJwk, jku: 'http://127.0.0.1:1/jwks', x5u: 'http://127.0.0.1:1/x5u' })
    .sign(attackerKey.privateKey);
  signed.push(embedded);

  for (let i = 0; i < count; i++) {
    let token: string;
    const variant = i % 4;
    if (variant === 0) {
      token = rand.pick(signed);
    } else if (variant === 1) {
      const header = { alg: rand.pick(algs), kid: rand.pick(kids), typ: rand.pick(typs), ...(rand.next() < 0.2 ? { crit: rand.pick([['b64'], ['exp'], 'x', []]), b64: false } : {}) };
      token = `${segment(header)}.${segment(rand.pick(payloads))}.${rand.chars(B64URL, rand.pick([0, 10, 342]))}`;
    } else if (variant === 2) {
      const parts = victimToken.split('.');
      const which = rand.int(3);
      const part = parts[which] ?? '';
      const at = rand.int(part.length);
      parts[which] = part.slice(0, at) + rand.chars(B64URL, 1 + rand.int(3)) + part.slice(at + 1);
      token = parts.join('.');
    } else {
      const parts = victimToken.split('.');
      token = rand.pick([
        parts.slice(0, 2).join('.'),
        `${parts.join('.')}.${parts[2] ?? ''}`,
        `${parts[1] ?? ''}.${parts[0] ?? ''}.${parts[2] ?? ''}`,
        `${parts[0] ?? ''}..${parts[2] ?? ''}`,
        '...',
        `${segment('{')}.${segment('}')}.x`,
        rand.chars(B64URL + '.', 1 + rand.int(600)),
      ]);
    }
    // A flipped padding bit in the signature decodes to the same bytes, so a
    // "mutated" victim token may still be the victim's: it only reads.
    const mutation = variant !== 2 && rand.next() < 0.3;
    const body = mutation
      ? JSON.stringify({ query: 'mutation($id: ID!) { deleteNote(id: $id) }', variables: { id: rand.pick(victimNoteIds) } })
      : gqlBody();
    cases.push({ label: `token #${i} ${token.slice(0, 80)}`, send: () => post(body, { authorization: `Bearer ${token}` }) });
  }
  return cases;
}

function documentCases(count: number): Case[] {
  const bodies: (() => string)[] = [
    () => JSON.stringify({ query: Array.from({ length: rand.int(60) }, () => rand.pick(GRAPHQL_LEXICON)).join(' ') }),
    () => JSON.stringify({ query: '{'.repeat(rand.int(20_000)) }),
    () => JSON.stringify({ query: `{ ${'me { id } '.repeat(rand.int(200))} }` }),
    () => JSON.stringify({ query: `query Q(${Array.from({ length: rand.int(80) }, (_, k) => `$v${k}: String`).join(' ')}) { me { id } }` }),
    () => JSON.stringify({ query: rand.pick(QUERIES), operationName: rand.chars(PRINTABLE, rand.int(300)) }),
    () => JSON.stringify({ query: rand.pick(QUERIES), variables: rand.pick<unknown>(['x', 1, [], null, { a: '['.repeat(3000) }]) }),
    () => JSON.stringify({ query: rand.pick<unknown>([1, null, [], {}, true, '']) }),
    () => JSON.stringify({ query: rand.pick(QUERIES), extensions: { persistedQuery: { version: rand.pick([1, 2, 'x']), sha256Hash: rand.chars('0123456789abcdef', 64) } } }),
    () => JSON.stringify({ extensions: { persistedQuery: { version: 1, sha256Hash: rand.chars('0123456789abcdef', rand.int(80)) } } }),
    () => JSON.stringify(rand.pick<unknown>([[], null, 'query', 42, [{ query: '{ me { id } }' }], {}])),
    () => '['.repeat(rand.int(50_000)) + ']'.repeat(rand.int(10)),
    () => rand.chars(PRINTABLE, rand.int(500)),
    () => JSON.stringify({ query: `{ note(id: ${JSON.stringify(rand.chars(PRINTABLE + LATIN1, rand.int(400)))}) { id } }` }),
    () =>
      JSON.stringify({
        query: 'mutation($input: CreateNoteInput!) { createNote(input: $input) { id } }',
        variables: { input: { title: rand.chars(PRINTABLE + '\u0000\ud800\u0007\n', rand.int(260)), body: rand.chars(PRINTABLE, rand.int(30)) } },
      }),
    () =>
      JSON.stringify({
        query: 'mutation($id: ID!, $input: UpdateNoteInput!) { updateNote(id: $id, input: $input) { id } }',
        variables: { id: rand.pick([...victimNoteIds, rand.chars(PRINTABLE, 36)]), input: { title: 'pwned', body: 'pwned' } },
      }),
    () =>
      JSON.stringify({
        query: PAGE_QUERY,
        variables: {
          f: rand.pick<unknown>([0, -1, 101, 100, 1, 2 ** 31, -(2 ** 31), 1.5, 1e308, '20', true, null, [], {}]),
          a: rand.pick<unknown>([
            victimCursor,
            victimCursor.slice(0, -1),
            `${victimCursor}=`,
            '',
            rand.chars(B64URL, rand.int(300)),
            rand.chars(PRINTABLE + LATIN1, rand.int(300)),
            cursorOf(['9999-12-31T23:59:59.999999Z', 'ffffffff-ffff-ffff-ffff-ffffffffffff']),
            cursorOf(['0001-01-01T00:00:00.000000Z', '00000000-0000-0000-0000-000000000000']),
            cursorOf(['2026-13-45T25:61:61.000000Z', rand.pick(victimNoteIds)]),
            cursorOf([rand.chars(PRINTABLE, 27), "' OR 1=1 --"]),
            cursorOf({ ownerId: 'victim' }),
            cursorOf('['.repeat(3000)),
            42,
            null,
          ]),
        },
      }),
    () =>
      JSON.stringify({
        query: `{ allNotes(ownerId: ${JSON.stringify(rand.pick(['victim', '', rand.chars(PRINTABLE, rand.int(300))]))}, first: ${rand.pick([1, 100, 101, 0])}) { edges { node { id title } } } }`,
      }),
    () => JSON.stringify({ query: `{ ${Array.from({ length: 30 }, (_, k) => `a${k}: __typename`).join(' ')} }` }),
    () => JSON.stringify({ query: 'fragment A on Query { ...B } fragment B on Query { ...A } { ...A }' }),
    // Nested fragment spreads that no estimator can walk cheaply, around a costly page.
    () => JSON.stringify({ query: fragmentBomb(rand.pick(['', 'a: myNotes(first: 100) { edges { node { id title body } } }', 'me { id }']), rand.pick([40, 71, 100])) }),
    // One leaf field under many aliases in every listed item.
    () => JSON.stringify({ query: wideLeafPage(rand.pick([1, 20, 100]), rand.pick([1, 15, 16]), rand.pick(['body', 'title', 'id', '__typename'])) }),
    () => JSON.stringify({ query: `{ __type(name: "Note") { ${'fields { type { ofType { '.repeat(8)}name${' } } }'.repeat(8)} } }` }),
  ];
  const contentTypes = ['application/json', 'application/json; charset=utf-8', 'text/plain', 'application/graphql', 'multipart/form-data; boundary=x', 'application/json; charset=utf-16', ''];
  return Array.from({ length: count }, (_, i) => {
    const body = bodies[i % bodies.length] as () => string;
    const content = body();
    const variant = rand.int(10);
    const token = rand.pick([attackerToken, attackerToken, '']);
    const headers: Record<string, string> = token ? { authorization: `Bearer ${token}` } : {};
    if (variant === 0) {
      headers['content-type'] = rand.pick(contentTypes);
      return { label: `document #${i} as ${headers['content-type']}`, send: () => post(content, headers) };
    }
    if (variant === 1) {
      const search = `?query=${encodeURIComponent(content.slice(0, 2000))}&variables=${rand.pick(['%7B', 'x', '%', '%E0%A4%A'])}&extensions=${rand.pick(['', '%7B%7D', '{'])}`;
      return { label: `document #${i} as GET`, send: () => post('', { ...headers, 'apollo-require-preflight': 'true' }, 'GET', `/graphql${search}`) };
    }
    if (variant === 2) {
      return { label: `document #${i} to a random path`, send: () => post(content, headers, rand.pick(['POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS']), rand.pick(['/graphql/', '//graphql', '/GRAPHQL', '/graphql%00', '/readyz', '/%ZZ'])) };
    }
    return { label: `document #${i} ${content.slice(0, 80)}`, send: () => post(content, headers) };
  });
}

/** Bytes that are not HTTP at all; Node's parser answers (or closes), the process must not care. */
function rawCases(count: number): Case[] {
  return Array.from({ length: count }, (_, i) => ({
    label: `raw #${i}`,
    send: () =>
      new Promise<number>((resolve) => {
        const socket = connect(Number(new URL(server.origin).port), '127.0.0.1');
        let answer = '';
        socket.setTimeout(2000, () => socket.destroy());
        socket.on('data', (chunk: Buffer) => (answer += chunk.toString('latin1')));
        socket.on('error', () => resolve(0));
        socket.on('close', () => resolve(Number(/^HTTP\/1\.1 (\d{3})/.exec(answer)?.[1] ?? 0)));
        socket.end(
          rand.pick([
            `${rand.chars(PRINTABLE, rand.int(100))}\r\n\r\n`,
            `POST /graphql HTTP/1.1\r\nHost: x\r\nContent-Length: ${rand.pick(['-1', 'abc', '99999999999999999999', '10, 20'])}\r\n\r\n{}`,
            `POST /graphql HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Type: application/json\r\n\r\nzz\r\n${rand.chars(PRINTABLE, 30)}\r\n0\r\n\r\n`,
            `GET /graphql HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${rand.chars(LATIN1, 30)}\r\n\r\n`,
            `POST /graphql HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"query":`,
          ]),
        );
      }),
  }));
}

async function run(cases: Case[], deadline: number): Promise<{ ran: number; failures: string[] }> {
  const failures: string[] = [];
  let next = 0;
  let ran = 0;
  async function worker() {
    while (next < cases.length && Date.now() < deadline) {
      const current = cases[next++] as Case;
      try {
        const status = await current.send();
        if (status >= 500) failures.push(`${status} ${current.label}`);
      } catch (error) {
        failures.push(`client error ${(error as Error).message} ${current.label}`);
      }
      ran++;
    }
  }
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  return { ran, failures };
}

describe(`abuse over real HTTP (seed ${SEED})`, () => {
  it('thousands of malformed headers, tokens and documents: no 5xx, still serving, no stored note changed', async () => {
    const deadline = Date.now() + TIME_BUDGET_MS;
    const cases = [...headerCases(800), ...(await tokenCases(1400)), ...documentCases(1400)];
    for (let i = cases.length - 1; i > 0; i--) {
      const j = rand.int(i + 1);
      [cases[i], cases[j]] = [cases[j] as Case, cases[i] as Case];
    }
    const http = await run(cases, deadline);
    const raw = await run(rawCases(60), deadline + 10_000);

    expect(http.failures, `seed ${SEED}: first failures:\n${http.failures.slice(0, 10).join('\n')}`).toEqual([]);
    expect(raw.failures).toEqual([]);
    expect(http.ran, 'the time budget cut the run short').toBeGreaterThanOrEqual(2000);

    expect((await fetch(`${server.origin}/healthz`)).status).toBe(200);
    const me = await execute(server.url, '{ me { id } }', { token: victimToken });
    expect(me.body, show(me)).toEqual({ data: { me: { id: 'victim' } } });
    expect((await execute(server.url, VICTIM_QUERY, { token: victimToken })).text).toBe(victimNotes);
    const crossed = await execute(server.url, PAGE_QUERY, { token: attackerToken, variables: { f: 100, a: victimCursor } });
    expect(crossed.text, show(crossed)).not.toMatch(/plans|diary|passwords|secret/);
    expect(server.rawLogs()).not.toContain(victimToken.split('.')[2]);
  }, 120_000);

  it("the review's fragment bomb is refused before it runs, not priced at 1", async () => {
    const bomb = await execute(server.url, fragmentBomb('a: myNotes(first: 100) { edges { node { id title body } } }'), { token: attackerToken });
    expect([bomb.status, codes(bomb)], show(bomb)).toEqual([400, ['QUERY_LIMIT_EXCEEDED']]);
  });

  it('a request that stops sending mid-body does not hold up other requests', async () => {
    const stalled = httpRequest(`${server.origin}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'content-length': '1000' },
    });
    stalled.on('error', () => undefined);
    stalled.write('{"query":');
    const response = await execute(server.url, '{ serverInfo { name } }');
    expect(response.status).toBe(200);
    stalled.destroy();
  });
});
