import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../src/db/database.js';
import { execute, show } from './helpers/graphql.js';
import { scratchDatabase, TEST_DATABASE_URL, type ScratchDatabase } from './helpers/databases.js';
import { startTestIssuer, type TestIssuer } from './helpers/issuer.js';
import { startReplicas, stopReplicas, type Replica } from './helpers/process.js';
import { bearer, connectRaw, nexts, wsUrl, type RawConnection } from './helpers/ws.js';

// Replicas (DESIGN 13): two server processes on one PostgreSQL database;
// events travel through LISTEN/NOTIFY.

const MY_EVENTS = 'subscription { myNoteEvents { kind noteId note { id ownerId title } } }';
const ALL_EVENTS = 'subscription { allNoteEvents { kind noteId note { ownerId } } }';
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));


describe.skipIf(TEST_DATABASE_URL === undefined)('two server processes on one PostgreSQL database (needs TEST_DATABASE_URL)', () => {
  let issuer: TestIssuer;
  let scratch: ScratchDatabase;
  const replicas: Replica[] = [];
  const opened: RawConnection[] = [];

  beforeAll(async () => {
    issuer = await startTestIssuer();
    scratch = await scratchDatabase('postgres');
    replicas.push(...(await startReplicas(2, { AUTHGEAR_ENDPOINT: issuer.url, DATABASE_URL: scratch.url ?? '' })));
  }, 60_000);

  afterAll(async () => {
    for (const connection of opened) await connection.close();
    stopReplicas(replicas);
    await scratch?.drop();
    await issuer?.close();
  });

  async function subscriber(replica: number, token: string, id: string, query: string): Promise<RawConnection> {
    const connection = await connectRaw(wsUrl((replicas[replica] as Replica).url), bearer(token));
    opened.push(connection);
    connection.subscribe(id, query);
    // The server sends nothing when a subscription starts; a query sent after it on the same socket comes back after it started.
    connection.subscribe(`${id}-probe`, '{ __typename }');
    await connection.next((m) => m.id === `${id}-probe` && m.type === 'complete');
    return connection;
  }

  async function mutate(replica: number, token: string, document: string, variables: Record<string, unknown>) {
    const response = await execute((replicas[replica] as Replica).url, document, { token, variables });
    if (response.body.errors !== undefined) throw new Error(show(response));
    return response.body.data as Record<string, { id: string } | boolean>;
  }

  it('a mutation on one replica reaches the subscribers on the other; a subscriber never sees another user\'s note', async () => {
    const owner = await issuer.mint({ sub: 'replica-owner', verified: true });
    const other = await issuer.mint({ sub: 'replica-other', verified: true });
    const admin = await issuer.mint({ sub: 'replica-admin', verified: true, roles: ['admin'] });
    const ownerOnB = await subscriber(1, owner, 'mine', MY_EVENTS);
    const otherOnB = await subscriber(1, other, 'mine', MY_EVENTS);
    const adminOnA = await subscriber(0, admin, 'all', ALL_EVENTS);

    const created = await mutate(0, owner, 'mutation { createNote(input: { title: "on A", body: "b" }) { id } }', {});
    const id = (created['createNote'] as { id: string }).id;
    await mutate(0, owner, 'mutation($id: ID!) { updateNote(id: $id, input: { title: "still on A" }) { id } }', { id });
    await mutate(1, owner, 'mutation($id: ID!) { deleteNote(id: $id) }', { id });
    const othersNote = await mutate(0, other, 'mutation { createNote(input: { title: "theirs", body: "b" }) { id } }', {});
    const othersId = (othersNote['createNote'] as { id: string }).id;

    await otherOnB.next((m) => m.type === 'next' && JSON.stringify(m.payload).includes(othersId), 10_000);
    await ownerOnB.next((m) => m.type === 'next' && JSON.stringify(m.payload).includes('DELETED'), 10_000);
    await adminOnA.next((m) => m.type === 'next' && JSON.stringify(m.payload).includes(othersId), 10_000);
    expect(nexts(ownerOnB, 'mine')).toEqual([
      { data: { myNoteEvents: { kind: 'CREATED', noteId: id, note: { id, ownerId: 'replica-owner', title: 'on A' } } } },
      { data: { myNoteEvents: { kind: 'UPDATED', noteId: id, note: { id, ownerId: 'replica-owner', title: 'still on A' } } } },
      { data: { myNoteEvents: { kind: 'DELETED', noteId: id, note: null } } },
    ]);
    expect(nexts(otherOnB, 'mine')).toEqual([
      { data: { myNoteEvents: { kind: 'CREATED', noteId: othersId, note: { id: othersId, ownerId: 'replica-other', title: 'theirs' } } } },
    ]);
    expect(nexts(adminOnA, 'all').map((n) => (n.data?.['allNoteEvents'] as { kind: string }).kind)).toEqual(['CREATED', 'UPDATED', 'DELETED', 'CREATED']);
  });

  it('SIGTERM closes the WebSockets with 1001 and exits 0', async () => {
    const token = await issuer.mint({ sub: 'replica-owner', verified: true });
    const connections = [await subscriber(0, token, 'a', MY_EVENTS), await subscriber(1, token, 'b', MY_EVENTS)];
    for (const { process } of replicas) process.child.kill('SIGTERM');
    for (const connection of connections) expect((await connection.closed).code).toBe(1001);
    for (const { process } of replicas) expect(await process.exited, process.stderr()).toBe(0);
  });
});

describe.skipIf(TEST_DATABASE_URL === undefined)('the LISTEN connection of the pg adapter (needs TEST_DATABASE_URL)', () => {
  let scratch: ScratchDatabase;
  let database: Database;
  beforeAll(async () => {
    scratch = await scratchDatabase('postgres');
    database = await scratch.open();
  });
  afterAll(async () => {
    await database?.close();
    await scratch?.drop();
  });

  it('is reopened after the server drops it, and listens again', async () => {
    const received: string[] = [];
    const stop = await database.listen('probe_channel', (payload) => received.push(payload));
    await database.notify('probe_channel', 'before');
    for (let i = 0; i < 100 && !received.includes('before'); i++) await sleep(10);
    const killed = await database.query<{ killed: boolean }>(
      "SELECT pg_terminate_backend(pid) AS killed FROM pg_stat_activity WHERE datname = current_database() AND query LIKE 'LISTEN%'",
    );
    expect(killed).toEqual([{ killed: true }]);
    // Reopened within the first backoff (250 ms); a NOTIFY is only seen once it listens again.
    for (let i = 0; i < 100 && !received.includes('after'); i++) {
      await database.notify('probe_channel', 'after');
      await sleep(50);
    }
    expect(received).toContain('after');
    await stop();
  });
});
