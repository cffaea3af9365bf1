import { connect as tcpConnect, type Socket } from 'node:net';
import { createClient } from 'graphql-ws';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { MintOptions } from '../src/auth/dev-issuer.js';
import { codes, execute, show } from './helpers/graphql.js';
import { send } from './helpers/http.js';
import { startTestIssuer, type TestIssuer } from './helpers/issuer.js';
import { startServer, type TestServer } from './helpers/server.js';
import { bearer, connectRaw, errorCodes, isClosed, nexts, openRaw, wsUrl, type Closed, type RawConnection } from './helpers/ws.js';

// Subscriptions over WebSocket (DESIGN 13): the same viewer, rules and
// codes as a query, on the same port and path.

const API_RESOURCE = 'urn:test:api';
const MY_EVENTS = 'subscription { myNoteEvents { kind noteId note { id title body ownerId } } }';
const ALL_EVENTS = 'subscription { allNoteEvents { kind noteId note { id ownerId } } }';
const MAX_SUBSCRIPTIONS = 3;
const MAX_CONNECTIONS = 3;

type Persona = 'anonymous' | 'unverified' | 'owner' | 'other' | 'admin';
const MINT: Record<Persona, Partial<MintOptions>> = {
  anonymous: { sub: 'ws-anon', anonymous: true },
  unverified: { sub: 'ws-unverified' },
  owner: { sub: 'ws-owner', verified: true },
  other: { sub: 'ws-other', verified: true },
  admin: { sub: 'ws-admin', verified: true, roles: ['admin'] },
};

let issuer: TestIssuer;
let server: TestServer;
const tokens = {} as Record<Persona | 'service', string>;
const opened: RawConnection[] = [];

/** A connection closed after the test, so the per-viewer count starts from zero in each. */
async function connect(payload?: Record<string, unknown>, options: Parameters<typeof openRaw>[1] = {}, target = server): Promise<RawConnection> {
  const connection = await connectRaw(wsUrl(target.url), payload, options);
  opened.push(connection);
  return connection;
}

async function open(options: Parameters<typeof openRaw>[1] = {}, target = server): Promise<RawConnection> {
  const connection = await openRaw(wsUrl(target.url), options);
  opened.push(connection);
  return connection;
}

const as = (persona: Persona) => connect(bearer(tokens[persona]));

/** Resolves once the server runs one more event stream than `before`, or the subscription ended instead. */
async function started(connection: RawConnection, id: string, before: number, target = server): Promise<'started' | 'ended'> {
  for (let i = 0; i < 200; i++) {
    if (connection.messages.some((m) => m.id === id && (m.type === 'error' || m.type === 'complete'))) return 'ended';
    if (target.realtime.stats().subscriptions > before) return 'started';
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error(`subscription ${id} neither started nor ended`);
}

async function subscribed(connection: RawConnection, id: string, query: string, target = server): Promise<'started' | 'ended'> {
  const before = target.realtime.stats().subscriptions;
  connection.subscribe(id, query);
  return started(connection, id, before, target);
}

async function query(connection: RawConnection, id: string, document: string) {
  connection.subscribe(id, document);
  await connection.next((m) => m.id === id && (m.type === 'complete' || m.type === 'error'));
  return connection.messages.filter((m) => m.id === id);
}

async function createNote(persona: Persona, title: string, body = `${title} body`): Promise<string> {
  const response = await execute(server.url, 'mutation($input: CreateNoteInput!) { createNote(input: $input) { id } }', {
    token: tokens[persona],
    variables: { input: { title, body } },
  });
  const id = (response.body.data?.['createNote'] as { id: string } | undefined)?.id;
  if (id === undefined) throw new Error(show(response));
  return id;
}

/** A `next` message whose payload mentions `text`. */
const carries = (message: { type: string; payload?: unknown }, text: string) => message.type === 'next' && JSON.stringify(message.payload).includes(text);

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

beforeAll(async () => {
  issuer = await startTestIssuer();
  server = await startServer({
    env: {
      AUTHGEAR_ENDPOINT: issuer.url,
      AUTHGEAR_API_RESOURCE: API_RESOURCE,
      TRUSTED_PROXIES: '127.0.0.1',
      CORS_ORIGINS: 'https://app.example.com',
      SUBSCRIPTION_MAX_PER_CONNECTION: String(MAX_SUBSCRIPTIONS),
      SUBSCRIPTION_MAX_CONNECTIONS_PER_VIEWER: String(MAX_CONNECTIONS),
    },
    deps: { realtime: { connectionInitTimeoutMs: 400 } },
  });
  for (const [persona, options] of Object.entries(MINT)) tokens[persona as Persona] = await issuer.mint(options);
  tokens.service = await issuer.issuer.mintService({ clientId: 'reporting', scopes: ['notes:read'], audience: API_RESOURCE });
});
afterEach(async () => {
  await Promise.all(opened.splice(0).map((connection) => connection.close()));
});
afterAll(async () => {
  await server.stop();
  await issuer.close();
});

describe('credentials, in the order of DESIGN 13', () => {
  it('no credential -> a guest connection: public operations work, guarded subscriptions get UNAUTHENTICATED, the socket stays open', async () => {
    const guest = await connect();
    const info = await query(guest, 'q', '{ serverInfo { name } }');
    expect(info.map((m) => m.type)).toEqual(['next', 'complete']);
    expect(info[0]?.payload).toEqual({ data: { serverInfo: { name: 'authgear-graphql-starter' } } });
    expect(await subscribed(guest, 's', MY_EVENTS)).toBe('ended');
    expect(errorCodes(guest, 's')).toEqual(['UNAUTHENTICATED']);
    expect(guest.socket.readyState).toBe(WebSocket.OPEN);
    expect((await query(guest, 'q2', '{ serverInfo { name } }'))[0]?.type).toBe('next');
  });

  it('a token in connection_init -> its viewer, as over HTTP', async () => {
    const owner = await connect(bearer(tokens.owner));
    expect((await query(owner, 'me', '{ me { id kind } }'))[0]?.payload).toEqual({ data: { me: { id: 'ws-owner', kind: 'USER' } } });
  });

  it('a token in the upgrade request\'s Authorization header -> its viewer', async () => {
    const owner = await connect(undefined, { headers: { authorization: `Bearer ${tokens.owner}` } });
    expect((await query(owner, 'me', '{ me { id } }'))[0]?.payload).toEqual({ data: { me: { id: 'ws-owner' } } });
  });

  it.each(['authorization', 'AUTHORIZATION', 'aUtHoRiZaTiOn'])('connection_init key %s counts: any case', async (key) => {
    const owner = await connect({ [key]: `Bearer ${tokens.owner}` });
    expect((await query(owner, 'me', '{ me { id } }'))[0]?.payload).toEqual({ data: { me: { id: 'ws-owner' } } });
  });

  it('connection_init comes before the upgrade header; a non-string Authorization there does not count', async () => {
    const both = await connect(bearer(tokens.owner), { headers: { authorization: `Bearer ${tokens.other}` } });
    expect((await query(both, 'me', '{ me { id } }'))[0]?.payload).toEqual({ data: { me: { id: 'ws-owner' } } });
    const nonString = await connect({ Authorization: { token: tokens.owner } }, { headers: { authorization: `Bearer ${tokens.other}` } });
    expect((await query(nonString, 'me', '{ me { id } }'))[0]?.payload).toEqual({ data: { me: { id: 'ws-other' } } });
  });

  it('two spellings of Authorization in connection_init -> closed 4403', async () => {
    const socket = await open();
    const answer = await socket.init({ Authorization: `Bearer ${tokens.owner}`, authorization: `Bearer ${tokens.other}` });
    expect(answer).toEqual({ code: 4403, reason: 'Send one Authorization in connection_init, not several spellings of it.' });
  });

  it('a bad credential -> closed 4403 with a reason that contains no part of the token; never a guest', async () => {
    const now = Math.floor(Date.now() / 1000);
    const expired = await issuer.mint({ sub: 'late', claims: { iat: now - 7200, exp: now - 3600 } });
    const valid = await issuer.mint({ sub: 'forged' });
    const [header, payload, signature = ''] = valid.split('.');
    const forged = `${header}.${payload}.${signature.slice(0, 10)}${signature[10] === 'A' ? 'B' : 'A'}${signature.slice(11)}`;
    const cases: [string, string][] = [
      [`Bearer ${expired}`, 'The access token expired; refresh it and retry.'],
      [`Bearer ${forged}`, 'The access token\'s signature is invalid.'],
      [`Bearer not-a-jwt`, 'The access token is malformed.'],
      [valid, 'The Authorization scheme must be Bearer: send "Authorization: Bearer <access token>".'],
      [`Basic ${Buffer.from('u:p').toString('base64')}`, 'The Authorization scheme must be Bearer: send "Authorization: Bearer <access token>".'],
    ];
    for (const [authorization, reason] of cases) {
      for (const where of ['connection_init', 'upgrade'] as const) {
        const socket = await open(where === 'upgrade' ? { headers: { authorization } } : {});
        const answer = await socket.init(where === 'connection_init' ? { Authorization: authorization } : undefined);
        expect(answer, `${where}: ${authorization.slice(0, 20)}`).toEqual({ code: 4403, reason });
        for (const part of authorization.split(/[ .]/).filter((p) => p.length >= 8)) expect((answer as Closed).reason).not.toContain(part.slice(0, 8));
      }
    }
    for (const part of [expired, forged, valid]) expect(server.rawLogs()).not.toContain(part.split('.')[2]);
  });

  it('the issuer unreachable before its keys are cached -> closed 1013 (try again later)', async () => {
    const down = await startTestIssuer();
    down.mode = 'down';
    const cold = await startServer({ env: { AUTHGEAR_ENDPOINT: down.url } });
    try {
      const socket = await open({}, cold);
      expect(await socket.init(bearer(await down.mint({ sub: 'someone' })))).toMatchObject({ code: 1013 });
      expect(cold.logs.some((line) => line['msg'] === 'websocket refused' && line['authFailure'] === 'provider_unavailable')).toBe(true);
    } finally {
      await cold.stop();
      await down.close();
    }
  });

  it('x-authgear-* on the upgrade from a trusted proxy -> the resolver\'s viewer, whatever connection_init says', async () => {
    const proxied = await connect(bearer(tokens.other), {
      headers: { 'x-authgear-session-valid': 'true', 'x-authgear-user-id': 'cookie-user', 'x-authgear-user-roles': 'admin' },
    });
    expect((await query(proxied, 'me', '{ me { id roles } }'))[0]?.payload).toEqual({ data: { me: { id: 'cookie-user', roles: ['admin'] } } });
  });

  it('x-authgear-* from a peer that is not a trusted proxy (127.0.0.2) -> closed 4400, naming TRUSTED_PROXIES', async () => {
    const socket = await open({ localAddress: '127.0.0.2', headers: { 'x-authgear-session-valid': 'true', 'x-authgear-user-id': 'forged' } });
    expect(await socket.init()).toEqual({ code: 4400, reason: 'x-authgear-* headers are accepted only from TRUSTED_PROXIES.' });
  });

  it('x-authgear-session-valid: false from the trusted proxy -> closed 4403, never a guest', async () => {
    const socket = await open({ headers: { 'x-authgear-session-valid': 'false' } });
    expect(await socket.init()).toMatchObject({ code: 4403, reason: expect.stringMatching(/^The session or access token is no longer valid/) as unknown });
  });
});

describe('permissions: a denied subscription gets the code of a query, not a closed socket', () => {
  const table: [string, string, Record<Persona | 'service' | 'guest', string>][] = [
    ['myNoteEvents', MY_EVENTS, { guest: 'UNAUTHENTICATED', anonymous: 'FORBIDDEN', unverified: 'ok', owner: 'ok', other: 'ok', admin: 'ok', service: 'FORBIDDEN' }],
    ['allNoteEvents', ALL_EVENTS, { guest: 'UNAUTHENTICATED', anonymous: 'FORBIDDEN', unverified: 'FORBIDDEN', owner: 'FORBIDDEN', other: 'FORBIDDEN', admin: 'ok', service: 'FORBIDDEN' }],
  ];
  for (const [field, document, expected] of table) {
    it(`${field}: ${Object.entries(expected).map(([p, o]) => `${p} -> ${o}`).join(', ')}`, async () => {
      const actual: Record<string, string> = {};
      for (const persona of Object.keys(expected)) {
        const connection = persona === 'guest' ? await connect() : await connect(bearer(tokens[persona as Persona | 'service']));
        const outcome = await subscribed(connection, 'sub', document);
        actual[persona] = outcome === 'started' ? 'ok' : (errorCodes(connection, 'sub').join(',') || 'ended without an error');
        expect(connection.socket.readyState, persona).toBe(WebSocket.OPEN);
        await connection.close();
      }
      expect(actual).toEqual(expected);
    });
  }

  it('denial messages say what to do, as over HTTP', async () => {
    const owner = await as('owner');
    await subscribed(owner, 'all', ALL_EVENTS);
    const error = owner.messages.find((m) => m.id === 'all' && m.type === 'next')?.payload as { errors: { message: string }[] };
    expect(error.errors[0]?.message).toMatch(/role admin/);
    expect(owner.messages.filter((m) => m.id === 'all').map((m) => m.type)).toEqual(['next', 'complete']);
  });
});

describe('events', () => {
  it('myNoteEvents: CREATED, UPDATED and DELETED of your own notes, in order, and never another user\'s', async () => {
    const owner = await as('owner');
    const other = await as('other');
    expect(await subscribed(owner, 'mine', MY_EVENTS)).toBe('started');
    expect(await subscribed(other, 'mine', MY_EVENTS)).toBe('started');

    const id = await createNote('owner', 'live note');
    await execute(server.url, 'mutation($id: ID!) { updateNote(id: $id, input: { title: "edited" }) { id } }', { token: tokens.owner, variables: { id } });
    const deleted = await execute(server.url, 'mutation($id: ID!) { deleteNote(id: $id) }', { token: tokens.owner, variables: { id } });
    expect(deleted.body, show(deleted)).toEqual({ data: { deleteNote: true } });
    const othersId = await createNote('other', 'not for the owner');

    await owner.next((m) => m.id === 'mine' && carries(m, 'DELETED'));
    await other.next((m) => m.id === 'mine' && carries(m, othersId));
    expect(nexts(owner, 'mine')).toEqual([
      { data: { myNoteEvents: { kind: 'CREATED', noteId: id, note: { id, title: 'live note', body: 'live note body', ownerId: 'ws-owner' } } } },
      { data: { myNoteEvents: { kind: 'UPDATED', noteId: id, note: { id, title: 'edited', body: 'live note body', ownerId: 'ws-owner' } } } },
      { data: { myNoteEvents: { kind: 'DELETED', noteId: id, note: null } } },
    ]);
    expect(nexts(other, 'mine')).toEqual([
      { data: { myNoteEvents: { kind: 'CREATED', noteId: othersId, note: { id: othersId, title: 'not for the owner', body: 'not for the owner body', ownerId: 'ws-other' } } } },
    ]);
  });

  it('allNoteEvents: an admin gets every user\'s events', async () => {
    const admin = await as('admin');
    expect(await subscribed(admin, 'all', ALL_EVENTS)).toBe('started');
    const mine = await createNote('owner', 'for the moderators');
    const theirs = await createNote('other', 'also for the moderators');
    await admin.next((m) => carries(m, theirs));
    expect(nexts(admin, 'all').map((n) => (n.data?.['allNoteEvents'] as { noteId: string; note: { ownerId: string } }).note)).toEqual([
      { id: mine, ownerId: 'ws-owner' },
      { id: theirs, ownerId: 'ws-other' },
    ]);
  });

  it('a denied write sends no event', async () => {
    const owner = await as('owner');
    expect(await subscribed(owner, 'mine', MY_EVENTS)).toBe('started');
    const othersId = await createNote('other', 'guarded');
    const attempt = await execute(server.url, 'mutation($id: ID!) { updateNote(id: $id, input: { title: "hijacked" }) { id } }', {
      token: tokens.owner,
      variables: { id: othersId },
    });
    expect(codes(attempt)).toEqual(['NOT_FOUND']);
    const own = await createNote('owner', 'marker');
    await owner.next((m) => carries(m, own));
    expect(nexts(owner, 'mine')).toHaveLength(1);
  });
});

describe('operations over the socket pass the checks they pass over HTTP', () => {
  it('a syntax error, an unknown field and a query over the depth limit -> an error message each, the socket stays open', async () => {
    const owner = await as('owner');
    const answers = await Promise.all([
      query(owner, 'parse', 'subscription { myNoteEvents {'),
      query(owner, 'unknown', 'subscription { myNoteEventz { kind } }'),
      query(owner, 'deep', `{ ${Array.from({ length: 16 }, (_, i) => `a${i}: me { id }`).join(' ')} }`),
    ]);
    expect(answers.map((messages) => messages.map((m) => m.type))).toEqual([['error'], ['error'], ['error']]);
    expect(['parse', 'unknown', 'deep'].map((id) => errorCodes(owner, id))).toEqual([
      ['GRAPHQL_PARSE_FAILED'],
      ['GRAPHQL_VALIDATION_FAILED'],
      ['QUERY_LIMIT_EXCEEDED'],
    ]);
    expect(owner.socket.readyState).toBe(WebSocket.OPEN);
  });

  it('a subscription sent over HTTP -> 400 GRAPHQL_VALIDATION_FAILED pointing to the WebSocket', async () => {
    const response = await execute(server.url, MY_EVENTS, { token: tokens.owner });
    expect(response.status).toBe(400);
    expect(codes(response)).toEqual(['GRAPHQL_VALIDATION_FAILED']);
    expect(response.body.errors?.[0]?.message).toMatch(/WebSocket \(graphql-transport-ws\)/);
  });

  it('a mutation over the socket is a mutation like any other: same rules, same event', async () => {
    const owner = await as('owner');
    expect(await subscribed(owner, 'mine', MY_EVENTS)).toBe('started');
    const [created] = await query(owner, 'create', 'mutation { createNote(input: { title: "over ws", body: "b" }) { id ownerId } }');
    const id = (created?.payload as { data: { createNote: { id: string } } }).data.createNote.id;
    await owner.next((m) => m.id === 'mine' && carries(m, id));
    const anonymous = await as('anonymous');
    await query(anonymous, 'create', 'mutation { createNote(input: { title: "t", body: "b" }) { id } }');
    expect(errorCodes(anonymous, 'create')).toEqual(['FORBIDDEN']);
  });
});

describe('the upgrade request', () => {
  it('another path -> 404; a browser origin outside CORS_ORIGINS -> 403; allowed, same-origin and origin-less ones connect', async () => {
    await expect(openRaw(wsUrl(server.url).replace('/graphql', '/subscriptions'))).rejects.toMatchObject({ status: 404 });
    await expect(open({ headers: { origin: 'https://evil.example' } })).rejects.toMatchObject({ status: 403 });
    const { port } = new URL(server.url);
    for (const origin of ['https://app.example.com', `http://127.0.0.1:${port}`]) {
      const socket = await open({ headers: { origin } });
      expect(isClosed(await socket.init())).toBe(false);
    }
  });
});

describe('the upgrade request with CORS_ORIGINS=*', () => {
  it('any origin may connect with a token; not with the proxy\'s x-authgear-* headers (a cookie session), which need the origin listed', async () => {
    const permissive = await startServer({ env: { AUTHGEAR_ENDPOINT: issuer.url, CORS_ORIGINS: '*', TRUSTED_PROXIES: '127.0.0.1' } });
    try {
      const withToken = await open({ headers: { origin: 'https://anywhere.example' } }, permissive);
      expect(isClosed(await withToken.init(bearer(tokens.owner)))).toBe(false);
      await expect(
        open({ headers: { origin: 'https://anywhere.example', 'x-authgear-session-valid': 'true', 'x-authgear-user-id': 'cookie-user' } }, permissive),
      ).rejects.toMatchObject({ status: 403 });
    } finally {
      await Promise.all(opened.splice(0).map((connection) => connection.close()));
      await permissive.stop();
    }
  });
});

describe('bounds', () => {
  it(`subscriptions per connection: the one over ${MAX_SUBSCRIPTIONS} gets an error QUERY_LIMIT_EXCEEDED, the others keep running`, async () => {
    const owner = await as('owner');
    for (let i = 1; i <= MAX_SUBSCRIPTIONS; i++) expect(await subscribed(owner, `s${i}`, MY_EVENTS)).toBe('started');
    expect(await subscribed(owner, 'over', MY_EVENTS)).toBe('ended');
    expect(errorCodes(owner, 'over')).toEqual(['QUERY_LIMIT_EXCEEDED']);
    const message = owner.messages.find((m) => m.id === 'over')?.payload as { message: string }[];
    expect(message[0]?.message).toBe(`At most ${MAX_SUBSCRIPTIONS} operations may run at once on one connection: complete one first.`);
    owner.send({ id: 's1', type: 'complete' });
    await sleep(50);
    expect(await subscribed(owner, 'room', MY_EVENTS)).toBe('started');
    const id = await createNote('owner', 'to all of them');
    for (const sub of ['s2', 's3', 'room']) await owner.next((m) => m.id === sub && carries(m, id));
  });

  it(`connections per viewer: the one over ${MAX_CONNECTIONS} is closed 1008; closing one makes room`, async () => {
    const first = await as('other');
    for (let i = 1; i < MAX_CONNECTIONS; i++) await as('other');
    const over = await open();
    expect(await over.init(bearer(tokens.other))).toEqual({
      code: 1008,
      reason: `too many connections: this viewer already has ${MAX_CONNECTIONS} open (at most ${MAX_CONNECTIONS})`,
    });
    expect(isClosed(await (await open()).init(bearer(tokens.owner)))).toBe(false);
    await first.close();
    await sleep(50);
    expect(isClosed(await (await open()).init(bearer(tokens.other)))).toBe(false);
  });

  it('no connection_init within the timeout -> closed 4408', async () => {
    const socket = await open();
    const started = Date.now();
    expect(await socket.closed).toEqual({ code: 4408, reason: 'Connection initialisation timeout' });
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it('a consumer that stops reading is closed 1008 ("too slow") instead of buffering: nothing of it is left on the server', async () => {
    const cap = 256 * 1024;
    const slowServer = await startServer({ env: { AUTHGEAR_ENDPOINT: issuer.url, SUBSCRIPTION_MAX_PER_CONNECTION: '10' }, deps: { realtime: { maxBufferedBytes: cap } } });
    try {
      const slow = await connect(bearer(tokens.unverified), {}, slowServer);
      for (let i = 0; i < 10; i++) expect(await subscribed(slow, `s${i}`, MY_EVENTS, slowServer)).toBe('started');
      (slow.socket as unknown as { _socket: Socket })._socket.pause();
      // A body JSON doubles ("\"" per character): each event is about 40 KB, ten of them per note.
      const body = '"'.repeat(20_000);
      const writer = await issuer.mint({ ...MINT.unverified, verified: true });
      let notes = 0;
      while (slowServer.realtime.stats().connections > 0 && notes < 200) {
        const response = await execute(slowServer.url, 'mutation($input: CreateNoteInput!) { createNote(input: $input) { id } }', {
          token: writer,
          variables: { input: { title: `bulk ${notes}`, body } },
        });
        expect(codes(response), show(response)).toEqual([]);
        notes++;
      }
      expect(slowServer.realtime.stats()).toEqual({ connections: 0, subscriptions: 0 });
      (slow.socket as unknown as { _socket: Socket })._socket.resume();
      expect(await slow.closed).toEqual({ code: 1008, reason: `too slow: more than ${cap} bytes of events waiting to be read` });
      // What reached the client before the close is all there is: whole events, and fewer than were published.
      const received = Array.from({ length: 10 }, (_, i) => nexts(slow, `s${i}`)).flat();
      expect(received.every((n) => (n.data?.['myNoteEvents'] as { kind: string }).kind === 'CREATED')).toBe(true);
      expect(received.length).toBeLessThan(10 * notes);
    } finally {
      await slowServer.stop();
    }
  });
});

describe('shutdown', () => {
  it('stop() closes every socket with 1001 before the HTTP drain; an HTTP request in flight still gets its answer', async () => {
    const stopping = await startServer({ env: { AUTHGEAR_ENDPOINT: issuer.url } });
    const subscriber = await connect(bearer(tokens.owner), {}, stopping);
    expect(await subscribed(subscriber, 'mine', MY_EVENTS, stopping)).toBe('started');
    // A request whose body is still on its way when stop() is called.
    const body = '{"query":"{ serverInfo { name } }"}';
    const { port } = new URL(stopping.url);
    const request = tcpConnect(Number(port), '127.0.0.1');
    let answer = '';
    request.setEncoding('utf8');
    request.on('data', (chunk: string) => (answer += chunk));
    const ended = new Promise((resolve) => request.on('end', resolve));
    request.write(`POST /graphql HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: application/json\r\ncontent-length: ${body.length}\r\nconnection: close\r\n\r\n${body.slice(0, 10)}`);
    await sleep(100);
    const stopped = stopping.stop();
    expect(await subscriber.closed).toEqual({ code: 1001, reason: 'The server is shutting down: reconnect.' });
    request.end(body.slice(10));
    await ended;
    expect(answer).toMatch(/^HTTP\/1\.1 200 /);
    expect(answer).toContain('{"data":{"serverInfo":{"name":"authgear-graphql-starter"}}}');
    await stopped;
  });
});

describe('Apollo Sandbox in development', () => {
  it('the landing page gives Sandbox this URL as ws:// for subscriptions, next to the shared Authorization header', async () => {
    const dev = await startServer({ env: { NODE_ENV: 'development' } });
    try {
      const page = await send(dev.url, { headers: { accept: 'text/html' } });
      expect(page.status).toBe(200);
      expect(page.text).toContain("initialSubscriptionEndpoint: initialEndpoint.replace(/^http/, 'ws'),");
      expect(page.text).toContain(`"sharedHeaders":{"Authorization":"Bearer ${dev.devToken}"}`);
      expect(dev.logs.some((line) => String(line['msg']).includes('Sandbox page changed shape'))).toBe(false);
      // What Sandbox then does: its headers become the connection_init payload.
      const client = createClient({ url: wsUrl(dev.url), webSocketImpl: WebSocket, connectionParams: { Authorization: `Bearer ${dev.devToken}` }, retryAttempts: 0 });
      const me = await new Promise((resolve, reject) => {
        client.subscribe({ query: '{ me { id } }' }, { next: resolve, error: reject, complete: () => undefined });
      });
      expect(me).toEqual({ data: { me: { id: 'dev-admin' } } });
      await client.dispose();
    } finally {
      await dev.stop();
    }
  });
});
