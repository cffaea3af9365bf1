import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../src/db/database.js';
import { openPglite } from '../src/db/pglite.js';
import { codes, execute, show } from './helpers/graphql.js';
import { send } from './helpers/http.js';
import { startTestIssuer, type TestIssuer } from './helpers/issuer.js';
import { startServer, type TestServer } from './helpers/server.js';
import { authgearEvent, postWebhook } from './helpers/webhooks.js';
import { bearer, connectRaw, openRaw, wsUrl } from './helpers/ws.js';

// DESIGN 17: Authgear's webhooks refuse disabled and deleted users at once,
// whichever credential they come with, and erase a deleted user's data.

const SECRET = 'whsec-test-3f9a7c1e';
const signed = { secret: SECRET };
const ME = '{ me { id } }';

let issuer: TestIssuer;
let database: Database;
let server: TestServer;
let seq = 1000;

const env = (extra: Record<string, string> = {}) => ({ AUTHGEAR_ENDPOINT: issuer.url, AUTHGEAR_WEBHOOK_SECRET: SECRET, TRUSTED_PROXIES: '127.0.0.1', ...extra });
const event = (type: string, userId: string, options: Parameters<typeof authgearEvent>[2] = {}) => authgearEvent(type, userId, { seq: ++seq, ...options });
const json = (text: string) => JSON.parse(text) as { outcome?: string; errors?: { extensions: { code: string } }[] };

async function createNote(token: string, title: string): Promise<string> {
  const response = await execute(server.url, 'mutation($t: String!) { createNote(input: { title: $t, body: "b" }) { id } }', { token, variables: { t: title } });
  const id = (response.body.data?.['createNote'] as { id: string } | undefined)?.id;
  if (id === undefined) throw new Error(show(response));
  return id;
}

beforeAll(async () => {
  issuer = await startTestIssuer();
  database = await openPglite(null);
  server = await startServer({ env: env({ AUTH_FAILURE_LIMIT: '3' }), deps: { database } });
});
afterAll(async () => {
  await server.stop();
  await database.close();
  await issuer.close();
});

describe('the request to /webhooks/authgear', () => {
  it('without AUTHGEAR_WEBHOOK_SECRET (and a real issuer) the endpoint is off: 404 like any unknown path', async () => {
    const off = await startServer({ env: { AUTHGEAR_ENDPOINT: issuer.url }, deps: { database } });
    try {
      expect((await postWebhook(off.origin, event('user.disabled', 'x'), signed)).status).toBe(404);
    } finally {
      await off.stop();
    }
  });

  it('another method -> 405 with Allow: POST', async () => {
    const response = await send(`${server.origin}/webhooks/authgear`);
    expect(response.status).toBe(405);
    expect(response.headers['allow']).toBe('POST');
  });

  it('a declared Content-Length over the body limit -> 413 before the body is read', async () => {
    const { hostname, port } = new URL(server.origin);
    const answer = await new Promise<string>((resolve, reject) => {
      const socket = connect(Number(port), hostname);
      let raw = '';
      socket.setEncoding('utf8');
      socket.on('data', (chunk: string) => (raw += chunk));
      socket.on('error', reject);
      socket.on('end', () => resolve(raw));
      // Headers only: the server must answer without waiting for the 10 MB it was promised.
      socket.write(`POST /webhooks/authgear HTTP/1.1\r\nhost: ${hostname}\r\ncontent-type: application/json\r\ncontent-length: 10000000\r\n\r\n`);
    });
    expect(answer).toMatch(/^HTTP\/1\.1 413 /);
    expect(answer).toContain('PAYLOAD_TOO_LARGE');
  });

  it('no signature, or one made with another secret -> 401 UNAUTHENTICATED without a Bearer challenge, and nothing changes', async () => {
    const token = await issuer.mint({ sub: 'forged-target', verified: true });
    for (const signing of [{ signature: null }, { secret: 'not-the-secret' }, { signature: 'A'.repeat(64) }, { signature: 'abc' }]) {
      const response = await postWebhook(server.origin, event('user.disabled', 'forged-target'), signing);
      expect(response.status, JSON.stringify(signing)).toBe(401);
      expect(json(response.text).errors?.[0]?.extensions.code).toBe('UNAUTHENTICATED');
      expect(response.headers['www-authenticate']).toBeUndefined();
    }
    const me = await execute(server.url, ME, { token });
    expect(me.body, show(me)).toEqual({ data: { me: { id: 'forged-target' } } });
  });

  it.each([
    ['not JSON', '{"id":'],
    ['not an object', '["user.disabled"]'],
    ['without an id', JSON.stringify({ type: 'user.disabled', seq: 5, payload: { user: { id: 'shape-target' } } })],
    ['a user event without payload.user.id', JSON.stringify({ id: 'e-1', type: 'user.disabled', seq: 5, payload: {} })],
    ['user.disabled without an integer seq', JSON.stringify({ id: 'e-2', type: 'user.disabled', seq: '5', payload: { user: { id: 'shape-target' } } })],
  ])('signed but %s -> 400 BAD_REQUEST, and nothing changes', async (_what, body) => {
    const response = await postWebhook(server.origin, body, signed);
    expect(response.status, response.text).toBe(400);
    expect(json(response.text).errors?.[0]?.extensions.code).toBe('BAD_REQUEST');
    const me = await execute(server.url, ME, { token: await issuer.mint({ sub: 'shape-target' }) });
    expect(me.status).toBe(200);
  });

  it('an event type this API does not act on -> 200 ignored', async () => {
    const response = await postWebhook(server.origin, event('user.authenticated', 'someone'), signed);
    expect(response.status).toBe(200);
    expect(json(response.text).outcome).toBe('ignored');
  });
});

describe('user.disabled and user.reenabled', () => {
  it('disabled -> the same (already cached) JWT gets 401 invalid_token, reason user_disabled; not counted as forged', async () => {
    const token = await issuer.mint({ sub: 'dana', verified: true });
    expect((await execute(server.url, ME, { token })).status).toBe(200);
    const applied = await postWebhook(server.origin, event('user.disabled', 'dana'), signed);
    expect(applied.status, applied.text).toBe(200);
    expect(json(applied.text).outcome).toBe('applied');
    // AUTH_FAILURE_LIMIT is 3 here: a disabled user's genuine token must not lock the address out.
    for (let i = 0; i < 5; i++) {
      const refused = await execute(server.url, ME, { token });
      expect(refused.status, show(refused)).toBe(401);
      expect(refused.headers.get('www-authenticate')).toMatch(/^Bearer error="invalid_token"/);
      expect(refused.body.errors?.[0]?.extensions).toMatchObject({ code: 'UNAUTHENTICATED', reason: 'user_disabled' });
    }
    // A fresh token of the same user is refused too.
    expect((await execute(server.url, ME, { token: await issuer.mint({ sub: 'dana' }) })).status).toBe(401);
  });

  it('the resolver headers of a disabled user (forward authentication) -> the same 401', async () => {
    await postWebhook(server.origin, event('user.disabled', 'cookie-dana'), signed);
    const refused = await execute(server.url, ME, { headers: { 'x-authgear-session-valid': 'true', 'x-authgear-user-id': 'cookie-dana' } });
    expect(refused.status, show(refused)).toBe(401);
    expect(refused.body.errors?.[0]?.extensions?.['reason']).toBe('user_disabled');
  });

  it('a service principal is not a user: a client id equal to a disabled user id is still served', async () => {
    await postWebhook(server.origin, event('user.disabled', 'reporting'), signed);
    const service = await issuer.issuer.mintService({ clientId: 'reporting', scopes: [], audience: issuer.url });
    const response = await execute(server.url, '{ me { id kind } }', { token: service });
    expect(response.body, show(response)).toEqual({ data: { me: { id: 'reporting', kind: 'SERVICE' } } });
  });

  it('a repeated event id -> 200 duplicate, nothing changes; a late user.reenabled (lower seq) does not undo a newer user.disabled', async () => {
    const token = await issuer.mint({ sub: 'erin' });
    const disabled = authgearEvent('user.disabled', 'erin', { seq: 5000 });
    expect(json((await postWebhook(server.origin, disabled, signed)).text).outcome).toBe('applied');
    expect(json((await postWebhook(server.origin, disabled, signed)).text).outcome).toBe('duplicate');
    const late = await postWebhook(server.origin, authgearEvent('user.reenabled', 'erin', { seq: 4999 }), signed);
    expect(json(late.text).outcome).toBe('stale');
    expect((await execute(server.url, ME, { token })).status).toBe(401);
    const lifted = await postWebhook(server.origin, authgearEvent('user.reenabled', 'erin', { seq: 5001 }), signed);
    expect(json(lifted.text).outcome).toBe('applied');
    expect((await execute(server.url, ME, { token })).body).toEqual({ data: { me: { id: 'erin' } } });
  });

  it('a temporary disable whose end has passed refuses nothing', async () => {
    const token = await issuer.mint({ sub: 'fay' });
    const past = { user: { id: 'fay' }, temporarily_disabled_until: '2020-01-01T00:00:00Z' };
    expect(json((await postWebhook(server.origin, event('user.disabled', 'fay', { payload: past }), signed)).text).outcome).toBe('applied');
    expect((await execute(server.url, ME, { token })).status).toBe(200);
  });

  it('a subscription of the user is closed with 4403 when the user is disabled; a new connection is refused with 4403', async () => {
    const token = await issuer.mint({ sub: 'gus', verified: true });
    const connection = await connectRaw(wsUrl(server.url), bearer(token));
    connection.subscribe('mine', 'subscription { myNoteEvents { kind } }');
    await postWebhook(server.origin, event('user.disabled', 'gus'), signed);
    const closed = await connection.closed;
    expect(closed.code).toBe(4403);
    expect(closed.reason).toMatch(/disabled/);
    const again = await openRaw(wsUrl(server.url));
    const answer = await again.init(bearer(token));
    expect(answer).toMatchObject({ code: 4403 });
  });
});

describe('user.deleted and user.anonymized', () => {
  it('the user\'s notes are erased and everyone else\'s kept; the user is refused with user_deleted; the log says what was erased, by count', async () => {
    const hank = await issuer.mint({ sub: 'hank', verified: true });
    const ivy = await issuer.mint({ sub: 'ivy', verified: true });
    await createNote(hank, 'hank 1');
    await createNote(hank, 'hank 2');
    const kept = await createNote(ivy, 'ivy keeps this');
    const response = await postWebhook(server.origin, event('user.deleted', 'hank'), signed);
    expect(json(response.text).outcome, response.text).toBe('applied');
    expect(await database.query("SELECT count(*)::int AS n FROM notes WHERE owner_id = 'hank'")).toEqual([{ n: 0 }]);
    const ivys = await execute(server.url, '{ myNotes { edges { node { id } } } }', { token: ivy });
    expect(ivys.body.data).toEqual({ myNotes: { edges: [{ node: { id: kept } }] } });
    const refused = await execute(server.url, ME, { token: hank });
    expect(refused.body.errors?.[0]?.extensions).toMatchObject({ code: 'UNAUTHENTICATED', reason: 'user_deleted' });
    const erasures = server.logs.filter((line) => line['msg'] === "erased a removed user's data");
    expect(erasures).toEqual([expect.objectContaining({ userId: 'hank', event: 'user.deleted', erased: { notes: { notes: 2 } } })]);
    expect(JSON.stringify(erasures)).not.toMatch(/hank 1|hank 2/);
  });

  it('an admin subscribed to allNoteEvents hears of every erased note as DELETED', async () => {
    const owen = await issuer.mint({ sub: 'owen', verified: true });
    const ids = [await createNote(owen, 'o1'), await createNote(owen, 'o2')];
    const admin = await connectRaw(wsUrl(server.url), bearer(await issuer.mint({ sub: 'watcher', verified: true, roles: ['admin'] })));
    try {
      admin.subscribe('all', 'subscription { allNoteEvents { kind noteId } }');
      admin.subscribe('probe', '{ __typename }');
      await admin.next((m) => m.id === 'probe' && m.type === 'complete');
      await postWebhook(server.origin, event('user.deleted', 'owen'), signed);
      for (const id of ids) await admin.next((m) => m.id === 'all' && JSON.stringify(m.payload).includes(id));
      const deleted = admin.messages.filter((m) => m.id === 'all').map((m) => (m.payload as { data: { allNoteEvents: { kind: string; noteId: string } } }).data.allNoteEvents);
      expect(deleted.filter((e) => ids.includes(e.noteId)).map((e) => e.kind)).toEqual(['DELETED', 'DELETED']);
    } finally {
      await admin.close();
    }
  });

  it('a repeated removal is harmless, and nothing lifts it: a later user.reenabled is stale', async () => {
    const token = await issuer.mint({ sub: 'jo', verified: true });
    await createNote(token, 'gone');
    const removal = event('user.anonymized', 'jo');
    expect(json((await postWebhook(server.origin, removal, signed)).text).outcome).toBe('applied');
    expect(json((await postWebhook(server.origin, removal, signed)).text).outcome).toBe('duplicate');
    expect(json((await postWebhook(server.origin, event('user.deleted', 'jo'), signed)).text).outcome).toBe('applied');
    expect(json((await postWebhook(server.origin, event('user.reenabled', 'jo'), signed)).text).outcome).toBe('stale');
    expect((await execute(server.url, ME, { token })).body.errors?.[0]?.extensions?.['reason']).toBe('user_deleted');
  });
});

describe('user.profile.updated', () => {
  it('drops the user\'s cached profile: the next me { profile } asks UserInfo again', async () => {
    const profileName = async (token: string) =>
      ((await execute(server.url, '{ me { profile { name } } }', { token })).body.data?.['me'] as { profile: { name: string } }).profile.name;
    const before = await issuer.mint({ sub: 'nora', userinfo: { name: 'Nora Old' } });
    const after = await issuer.mint({ sub: 'nora', userinfo: { name: 'Nora New' } });
    expect(await profileName(before)).toBe('Nora Old');
    expect(await profileName(after)).toBe('Nora Old');
    expect(json((await postWebhook(server.origin, event('user.profile.updated', 'nora'), signed)).text).outcome).toBe('applied');
    expect(await profileName(after)).toBe('Nora New');
  });
});

describe('state across servers and outages', () => {
  it('a server started after the event refuses from its first request', async () => {
    await postWebhook(server.origin, event('user.disabled', 'kim'), signed);
    const later = await startServer({ env: env(), deps: { database } });
    try {
      const refused = await execute(later.url, ME, { token: await issuer.mint({ sub: 'kim' }) });
      expect(refused.status, show(refused)).toBe(401);
    } finally {
      await later.stop();
    }
  });

  it('/metrics counts webhook events by type and outcome, and the refusals by reason', async () => {
    const text = (await send(`${server.origin}/metrics`)).text;
    expect(text).toMatch(/webhook_events_total\{type="user\.disabled",outcome="applied"\} \d+/);
    expect(text).toMatch(/webhook_events_total\{type="user\.disabled",outcome="duplicate"\} 1/);
    expect(text).toMatch(/webhook_events_total\{type="other",outcome="refused"\} \d+/);
    expect(text).toMatch(/auth_results_total\{result="refused",reason="user_disabled"\} \d+/);
  });

  it('the database unavailable -> 503 SERVICE_UNAVAILABLE, and the event is not taken as done', async () => {
    const own = await openPglite(null);
    const outage = await startServer({ env: env(), deps: { database: own } });
    try {
      await own.close();
      const response = await postWebhook(outage.origin, event('user.disabled', 'lee'), signed);
      expect(response.status, response.text).toBe(503);
      expect(json(response.text).errors?.[0]?.extensions.code).toBe('SERVICE_UNAVAILABLE');
    } finally {
      await outage.stop();
    }
  });
});

describe('development: the dev issuer\'s controls send the signed webhooks themselves', () => {
  it('disable -> the same JWT is refused on the next request; enable -> served; delete -> refused and the notes erased', async () => {
    const dev = await startServer({ deps: { database } });
    try {
      const token = await dev.devIssuer?.mint({ sub: 'max', verified: true });
      if (token === undefined) throw new Error('no dev issuer');
      await execute(dev.url, 'mutation { createNote(input: { title: "t", body: "b" }) { id } }', { token });
      expect((await send(`${dev.origin}/_dev/users/max/disable`, { method: 'POST' })).status).toBe(200);
      expect((await execute(dev.url, ME, { token })).body.errors?.[0]?.extensions?.['reason']).toBe('user_disabled');
      expect((await send(`${dev.origin}/_dev/users/max/enable`, { method: 'POST' })).status).toBe(200);
      expect((await execute(dev.url, ME, { token })).body).toEqual({ data: { me: { id: 'max' } } });
      expect((await send(`${dev.origin}/_dev/users/max/delete`, { method: 'POST' })).status).toBe(200);
      expect(codes(await execute(dev.url, ME, { token }))).toEqual(['UNAUTHENTICATED']);
      expect(await database.query("SELECT count(*)::int AS n FROM notes WHERE owner_id = 'max'")).toEqual([{ n: 0 }]);
    } finally {
      await dev.stop();
    }
  });
});
