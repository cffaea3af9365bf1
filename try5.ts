import { makeExecutableSchema } from '@graphql-tools/schema';
import { parse, subscribe } from 'graphql';
import { viewerFromClaims } from './src/auth/viewer.js';
import { buildSchema } from './src/schema.js';
import { loadTypeDefs } from './src/type-defs.js';
import { DateTime } from './src/resolvers/scalars.js';
import { EventStream } from './src/realtime/event-stream.js';

const N = 2000;
const doc = parse('subscription { myNoteEvents { kind noteId note { id title body ownerId createdAt updatedAt } } }');
const note = { id: 'n1', ownerId: 'o', title: 't', body: 'b'.repeat(60), createdAt: new Date(), updatedAt: new Date() };
const budget = { admit: () => true, release: () => undefined };
async function run(schema: any, label: string) {
  const streams: EventStream<any>[] = [];
  const iters: AsyncIterator<any>[] = [];
  for (let i = 0; i < N; i++) {
    const viewer = viewerFromClaims({ sub: 'o' });
    const feed = { stream: (_s: any, field: string) => { const s = new EventStream<any>(budget, () => undefined); streams.push(s); return s; }, end() {}, size: 0 };
    const it = await subscribe({ schema, document: doc, contextValue: { viewer, notes: {}, requestId: 'x', noteEvents: feed } });
    iters.push(it as AsyncIterator<any>);
  }
  for (let round = 0; round < 5; round++) {
    const t0 = performance.now();
    const all = Promise.all(iters.map((it) => it.next().then((r) => JSON.stringify(r.value))));
    for (const s of streams) s.push({ myNoteEvents: { kind: 'CREATED', noteId: 'n1', note } }, 100);
    await all;
    console.log(label, round, (performance.now() - t0).toFixed(1), 'ms');
  }
}
const shielded = buildSchema({ serverInfo: { name: 'x', version: '0', issuer: 'i', devIssuer: false, reauthMaxAgeSeconds: 300 }, reauthMaxAgeSeconds: 300 });
const plain = makeExecutableSchema({ typeDefs: loadTypeDefs(), resolvers: { DateTime, Subscription: { myNoteEvents: { subscribe: (_p: any, _a: any, ctx: any) => ctx.noteEvents.stream({}, 'myNoteEvents') } } } });
await run(plain, 'plain');
await run(shielded, 'shield');
