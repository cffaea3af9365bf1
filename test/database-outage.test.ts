import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DatabaseUnavailableError } from '../src/db/database.js';
import { openPglite } from '../src/db/pglite.js';
import { codes, execute, show, type GraphQLResponse } from './helpers/graphql.js';
import { scratchDatabase, TEST_DATABASE_URL, type ScratchDatabase } from './helpers/databases.js';
import { startTestIssuer, type TestIssuer } from './helpers/issuer.js';
import { startServer, type TestServer } from './helpers/server.js';
import { startTcpProxy, type TcpProxy } from './helpers/tcp-proxy.js';

const CREATE = 'mutation($title: String!) { createNote(input: { title: $title, body: "written under load" }) { id } }';
const MY_NOTES = 'query($after: String) { myNotes(first: 100, after: $after) { edges { node { id } } pageInfo { hasNextPage endCursor } } }';
const UNAVAILABLE_LOG = 'database unavailable: answering SERVICE_UNAVAILABLE until it answers again';

/** Polls until `check` holds; bounded, so a server that never gets there fails the test instead of hanging it. */
async function eventually(check: () => Promise<boolean>, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe('the adapters tell an unavailable database from a failing statement', () => {
  it('a closed PGlite rejects with DatabaseUnavailableError; a bad statement on an open one does not', async () => {
    const db = await openPglite(null);
    const statementError = await db.query('SELECT no_such_column').catch((error: unknown) => error);
    expect(statementError).not.toBeInstanceOf(DatabaseUnavailableError);
    await db.close();
    await expect(db.query('SELECT 1')).rejects.toBeInstanceOf(DatabaseUnavailableError);
  });
});

describe.skipIf(TEST_DATABASE_URL === undefined)('a PostgreSQL server cut off mid-load (needs TEST_DATABASE_URL)', () => {
  let scratch: ScratchDatabase;
  let proxy: TcpProxy;
  let issuer: TestIssuer;
  let server: TestServer;
  let token: string;

  beforeAll(async () => {
    scratch = await scratchDatabase('postgres');
    const direct = new URL(scratch.url ?? '');
    proxy = await startTcpProxy({ host: direct.hostname, port: Number(direct.port || 5432) });
    const throughProxy = new URL(direct.href);
    throughProxy.hostname = '127.0.0.1';
    throughProxy.port = String(proxy.port);
    issuer = await startTestIssuer();
    // The server opens its own pool, as in production, so idle connections
    // dropped by the cut reach the same outage log as failed requests.
    server = await startServer({ env: { AUTHGEAR_ENDPOINT: issuer.url, DATABASE_URL: throughProxy.href }, ownDatabase: true });
    token = await issuer.mint({ sub: 'outage-writer', verified: true });
  });
  afterAll(async () => {
    await server?.stop();
    await issuer?.close();
    await proxy?.close();
    await scratch?.drop();
  });

  const logged = (message: string) => server.logs.filter((line) => line['msg'] === message).length;

  async function storedIds(): Promise<Set<string>> {
    const ids = new Set<string>();
    let after: string | null = null;
    for (let page = 0; page < 100; page++) {
      const response: GraphQLResponse = await execute(server.url, MY_NOTES, { token, variables: { after } });
      const connection = response.body.data?.['myNotes'] as { edges: { node: { id: string } }[]; pageInfo: { hasNextPage: boolean; endCursor: string } } | undefined;
      if (connection === undefined) throw new Error(show(response));
      for (const edge of connection.edges) ids.add(edge.node.id);
      if (!connection.pageInfo.hasNextPage) return ids;
      after = connection.pageInfo.endCursor;
    }
    throw new Error('more than 100 pages');
  }

  it('data fields answer SERVICE_UNAVAILABLE (retryable) while `me` works, logged once; it recovers by itself and no acknowledged write is lost', async () => {
    const acknowledged: string[] = [];
    const refusals: unknown[] = [];
    let stop = false;
    // Four writers, at most 150 writes each, until told to stop.
    const writer = async (n: number) => {
      for (let i = 0; i < 150 && !stop; i++) {
        const response = await execute(server.url, CREATE, { token, variables: { title: `writer ${n} #${i}` } });
        const id = (response.body.data?.['createNote'] as { id: string } | undefined)?.id;
        if (id !== undefined) acknowledged.push(id);
        else refusals.push(...(response.body.errors ?? []).map((error) => error.extensions));
      }
    };
    const writers = Promise.all([0, 1, 2, 3].map(writer));
    await eventually(async () => acknowledged.length >= 40, '40 acknowledged writes');

    await proxy.cut();
    await eventually(async () => refusals.length >= 20, '20 refused writes after the cut');
    stop = true;
    await writers;
    const acknowledgedBeforeRecovery = [...acknowledged];

    // Writes in flight when the connections were cut fail the same way as those refused after.
    expect(refusals).toEqual(refusals.map(() => ({ code: 'SERVICE_UNAVAILABLE', retryable: true })));
    for (const query of [
      '{ myNotes { edges { node { id } } } }',
      '{ allNotes { edges { node { id } } } }',
      `{ note(id: "${acknowledged[0] ?? ''}") { id } }`,
      `mutation { updateNote(id: "${acknowledged[0] ?? ''}", input: { title: "x" }) { id } }`,
      `mutation { deleteNote(id: "${acknowledged[0] ?? ''}") }`,
    ]) {
      const admin = query.includes('allNotes') ? await issuer.mint({ sub: 'outage-admin', roles: ['admin'] }) : token;
      const response = await execute(server.url, query, { token: admin });
      expect([response.status, codes(response)], show(response)).toEqual([200, ['SERVICE_UNAVAILABLE']]);
      expect(response.body.errors?.[0]?.extensions?.['retryable']).toBe(true);
    }
    const me = await execute(server.url, '{ me { id } }', { token });
    expect(me.body).toEqual({ data: { me: { id: 'outage-writer' } } });
    expect((await fetch(`${server.origin}/readyz`)).status).toBe(503);
    expect((await fetch(`${server.origin}/healthz`)).status).toBe(200);
    expect(logged(UNAVAILABLE_LOG), server.rawLogs()).toBe(1);
    expect(logged('unexpected error'), server.rawLogs()).toBe(0);

    await proxy.open();
    await eventually(async () => codes(await execute(server.url, '{ myNotes { pageInfo { hasNextPage } } }', { token })).length === 0, 'recovery');
    expect(logged('database answers again')).toBe(1);
    expect(logged(UNAVAILABLE_LOG)).toBe(1);
    expect((await fetch(`${server.origin}/readyz`)).status).toBe(200);

    const stored = await storedIds();
    expect(acknowledgedBeforeRecovery.filter((id) => !stored.has(id)), 'acknowledged writes that are gone').toEqual([]);
    const after = await execute(server.url, CREATE, { token, variables: { title: 'after the outage' } });
    expect(after.body.errors, show(after)).toBeUndefined();
  }, 60_000);
});
