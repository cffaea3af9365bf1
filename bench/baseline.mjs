// The benchmark's yardstick: Apollo Server 5's own standalone server with the
// same SDL and trivial resolvers, no authentication and no permissions, as a
// new Apollo user would start it: `me` is a fixed viewer, whatever the
// Authorization header says. Plain JS on the built output, like the
// project's server, so neither pays for a TypeScript loader.
import { Buffer } from 'node:buffer';
import { ApolloServer } from '@apollo/server';
import { startStandaloneServer } from '@apollo/server/standalone';
import { makeExecutableSchema } from '@graphql-tools/schema';
import { DateTime } from '../dist/scalars.js';
import { modules } from '../dist/modules/index.js';
import { typeDefsOf } from '../dist/schema.js';

const serverInfo = { name: 'baseline', version: '0.0.0', issuer: 'none', devIssuer: false, reauthMaxAgeSeconds: 300 };
// The profile as the project answers it from a warm cache.
const viewer = { id: 'bench-user', roles: [], isVerified: true, isAnonymous: false, authenticatedAt: new Date(), profile: { email: 'bench@example.com', name: 'Bench User' } };
// What the project's `myNotes` answers in the bench (the bench user's ten notes), from memory.
const tenNotes = Array.from({ length: 10 }, (_, i) => {
  const createdAt = new Date(Date.UTC(2026, 0, 1, 0, 0, 10 - i));
  const node = { id: `00000000-0000-4000-8000-00000000000${i}`, title: `Note ${i}`, body: `A body of a few words, like a real note ${i}.`, ownerId: viewer.id, createdAt, updatedAt: createdAt };
  return { cursor: Buffer.from(`${createdAt.toISOString()}|${node.id}`).toString('base64url'), node };
});
const myNotes = { edges: tenNotes, pageInfo: { hasNextPage: false, endCursor: tenNotes[9].cursor } };
const noNotes = { edges: [], pageInfo: { hasNextPage: false, endCursor: null } };

const schema = makeExecutableSchema({
  typeDefs: typeDefsOf(modules),
  resolvers: {
    DateTime,
    Query: { serverInfo: () => serverInfo, me: () => viewer, myNotes: () => myNotes, note: () => null, allNotes: () => noNotes },
  },
});
const server = new ApolloServer({ schema });
const { url } = await startStandaloneServer(server, { listen: { host: '127.0.0.1', port: Number(process.env.PORT ?? 0) } });
process.stdout.write(`${JSON.stringify({ url })}\n`);
