import { createClient } from 'graphql-ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { startDeadline } from '../src/realtime/expiry.js';
import { execute, show } from './helpers/graphql.js';
import { startTestIssuer, type TestIssuer } from './helpers/issuer.js';
import { startServer, type TestServer } from './helpers/server.js';
import { bearer, connectRaw, nexts, wsUrl } from './helpers/ws.js';

// A connection must not outlive its credential (DESIGN 13): a JWT one is
// closed at `exp` (plus the clock tolerance, 0 here), a resolver one after
// SUBSCRIPTION_MAX_LIFETIME.

const MY_EVENTS = 'subscription { myNoteEvents { kind noteId } }';
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

let issuer: TestIssuer;
let server: TestServer;

beforeAll(async () => {
  issuer = await startTestIssuer();
  server = await startServer({ env: { AUTHGEAR_ENDPOINT: issuer.url, JWT_CLOCK_TOLERANCE: '0', TRUSTED_PROXIES: '127.0.0.1', SUBSCRIPTION_MAX_LIFETIME: '2' } });
});
afterAll(async () => {
  await server.stop();
  await issuer.close();
});

async function createNote(token: string, title: string): Promise<string> {
  const response = await execute(server.url, 'mutation($title: String!) { createNote(input: { title: $title, body: "b" }) { id } }', { token, variables: { title } });
  const id = (response.body.data?.['createNote'] as { id: string } | undefined)?.id;
  if (id === undefined) throw new Error(show(response));
  return id;
}

async function waitForStream(before: number): Promise<void> {
  for (let i = 0; i < 100 && server.realtime.stats().subscriptions <= before; i++) await sleep(10);
}

describe('a JWT connection ends with its token', () => {
  it("a 3-second token's subscription -> closed 4403 at about 3 s, nothing after", async () => {
    const writer = await issuer.mint({ sub: 'expiring-user', verified: true, ttlSeconds: 600 });
    // Minted at the start of a second, so that exp (whole seconds) is 3 s away, not 2.something.
    await sleep(1000 - (Date.now() % 1000));
    const minted = Date.now();
    const token = await issuer.mint({ sub: 'expiring-user', ttlSeconds: 3 });
    const subscriber = await connectRaw(wsUrl(server.url), bearer(token));
    const before = server.realtime.stats().subscriptions;
    subscriber.subscribe('mine', MY_EVENTS);
    await waitForStream(before);

    const during = await createNote(writer, 'while valid');
    await subscriber.next((m) => m.type === 'next' && JSON.stringify(m.payload).includes(during));
    const closed = await subscriber.closed;
    const elapsed = Date.now() - minted;
    expect(closed).toEqual({ code: 4403, reason: 'token expired: reconnect with a fresh one' });
    expect(elapsed).toBeGreaterThanOrEqual(2500);
    expect(elapsed).toBeLessThanOrEqual(4500);

    await createNote(writer, 'after expiry');
    await sleep(300);
    expect(nexts(subscriber, 'mine').map((n) => (n.data?.['myNoteEvents'] as { noteId: string }).noteId)).toEqual([during]);
    expect(server.realtime.stats()).toEqual({ connections: 0, subscriptions: 0 });
  });

  it('the graphql-ws client of docs/subscriptions.md reconnects on 4403 with a fresh token and keeps receiving', async () => {
    const writer = await issuer.mint({ sub: 'refreshing-user', verified: true, ttlSeconds: 600 });
    let minted = 0;
    const closes: number[] = [];
    const client = createClient({
      url: wsUrl(server.url),
      webSocketImpl: WebSocket,
      // The first token lives 1 s; the "refreshed" ones a minute.
      connectionParams: async () => ({ Authorization: `Bearer ${await issuer.mint({ sub: 'refreshing-user', ttlSeconds: minted++ === 0 ? 1 : 60 })}` }),
      shouldRetry: () => true,
      retryAttempts: 3,
      retryWait: async () => {
        await sleep(50);
      },
      on: { closed: (event) => void closes.push((event as { code: number }).code) },
    });
    const received: string[] = [];
    const unsubscribe = client.subscribe<{ myNoteEvents: { noteId: string } }>(
      { query: MY_EVENTS },
      { next: (value) => void received.push(value.data?.myNoteEvents.noteId ?? ''), error: () => undefined, complete: () => undefined },
    );
    try {
      for (let i = 0; i < 300 && closes.length === 0; i++) await sleep(10);
      expect(closes).toEqual([4403]);
      for (let i = 0; i < 300 && server.realtime.stats().subscriptions === 0; i++) await sleep(10);
      const after = await createNote(writer, 'after the refresh');
      for (let i = 0; i < 300 && !received.includes(after); i++) await sleep(10);
      expect(received).toContain(after);
      expect(minted).toBe(2);
    } finally {
      unsubscribe();
      await client.dispose();
    }
  });
});

describe('a resolver connection ends after SUBSCRIPTION_MAX_LIFETIME', () => {
  it('authenticated by the trusted proxy\'s x-authgear-* headers -> closed 4403 after 2 s', async () => {
    const opened = Date.now();
    const subscriber = await connectRaw(wsUrl(server.url), undefined, {
      headers: { 'x-authgear-session-valid': 'true', 'x-authgear-user-id': 'cookie-user' },
    });
    subscriber.subscribe('mine', MY_EVENTS);
    expect(await subscriber.closed).toEqual({ code: 4403, reason: 'token expired: reconnect with a fresh one' });
    const elapsed = Date.now() - opened;
    expect(elapsed).toBeGreaterThanOrEqual(1800);
    expect(elapsed).toBeLessThanOrEqual(3500);
  });
});

describe('the deadline timer', () => {
  it('a deadline beyond setTimeout\'s range (24.8 days) waits instead of firing at once', async () => {
    let fired = false;
    const deadline = startDeadline(Date.now() + 30 * 24 * 3600 * 1000, () => {
      fired = true;
    });
    await sleep(50);
    deadline.cancel();
    expect(fired).toBe(false);
  });
});
