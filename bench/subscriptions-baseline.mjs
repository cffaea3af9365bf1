// The subscription benchmark's yardstick: graphql-ws on ws as its docs set
// it up, with the same SDL, no authentication, no permissions and an
// in-process pubsub; createNote over plain HTTP publishes the same event
// shape the project's server sends. Plain JS on the built output, like the
// project's server.
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import { makeExecutableSchema } from '@graphql-tools/schema';
import { graphql } from 'graphql';
import { useServer } from 'graphql-ws/use/ws';
import { WebSocketServer } from 'ws';
import { DateTime } from '../dist/scalars.js';
import { modules } from '../dist/modules/index.js';
import { typeDefsOf } from '../dist/schema.js';

/** The smallest in-memory pubsub: one queue per subscriber. */
function createPubSub() {
  const subscribers = new Set();
  return {
    publish(value) {
      for (const push of subscribers) push(value);
    },
    iterator() {
      const queue = [];
      let waiting = null;
      const push = (value) => {
        if (waiting) {
          const resolve = waiting;
          waiting = null;
          resolve({ value, done: false });
        } else queue.push(value);
      };
      subscribers.add(push);
      return {
        next: () => (queue.length > 0 ? Promise.resolve({ value: queue.shift(), done: false }) : new Promise((resolve) => (waiting = resolve))),
        return: () => {
          subscribers.delete(push);
          waiting?.({ value: undefined, done: true });
          return Promise.resolve({ value: undefined, done: true });
        },
        [Symbol.asyncIterator]() {
          return this;
        },
      };
    },
  };
}

const pubsub = createPubSub();
const serverInfo = { name: 'baseline', version: '0.0.0', issuer: 'none', devIssuer: false, reauthMaxAgeSeconds: 300 };

const schema = makeExecutableSchema({
  typeDefs: typeDefsOf(modules),
  resolvers: {
    DateTime,
    Query: { serverInfo: () => serverInfo },
    Mutation: {
      createNote: (_parent, { input }) => {
        const now = new Date();
        const note = { id: randomUUID(), ownerId: 'bench-owner', title: input.title, body: input.body, createdAt: now, updatedAt: now };
        pubsub.publish({ myNoteEvents: { kind: 'CREATED', noteId: note.id, note } });
        return note;
      },
    },
    Subscription: { myNoteEvents: { subscribe: () => pubsub.iterator() } },
  },
});

const httpServer = createServer(async (req, res) => {
  let body = '';
  for await (const chunk of req) body += chunk;
  const { query, variables } = JSON.parse(body || '{}');
  const result = await graphql({ schema, source: query, variableValues: variables });
  res.writeHead(200, { 'content-type': 'application/json' });
  res.end(JSON.stringify(result));
});
useServer({ schema }, new WebSocketServer({ server: httpServer, path: '/graphql' }));
httpServer.listen(Number(process.env.PORT ?? 0), '127.0.0.1', () => {
  process.stdout.write(`${JSON.stringify({ url: `http://127.0.0.1:${httpServer.address().port}/graphql` })}\n`);
});
process.on('SIGTERM', () => process.exit(0));
