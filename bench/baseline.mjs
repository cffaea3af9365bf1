// The benchmark's yardstick: Apollo Server 5's own standalone server with the
// same SDL and trivial resolvers, no authentication and no permissions, as a
// new Apollo user would start it. Plain JS on the built output, like the
// project's server, so neither pays for a TypeScript loader.
import { ApolloServer } from '@apollo/server';
import { startStandaloneServer } from '@apollo/server/standalone';
import { makeExecutableSchema } from '@graphql-tools/schema';
import { DateTime } from '../dist/resolvers/scalars.js';
import { loadTypeDefs } from '../dist/type-defs.js';

const serverInfo = { name: 'baseline', version: '0.0.0', issuer: 'none', devIssuer: false, reauthMaxAgeSeconds: 300 };
const viewer = { id: 'bench-user', roles: [], isVerified: true, isAnonymous: false, authenticatedAt: new Date() };
const noNotes = { edges: [], pageInfo: { hasNextPage: false, endCursor: null } };

const schema = makeExecutableSchema({
  typeDefs: loadTypeDefs(),
  resolvers: {
    DateTime,
    Query: { serverInfo: () => serverInfo, me: () => viewer, myNotes: () => noNotes, note: () => null, allNotes: () => noNotes },
  },
});
const server = new ApolloServer({ schema });
const { url } = await startStandaloneServer(server, { listen: { host: '127.0.0.1', port: Number(process.env.PORT ?? 0) } });
process.stdout.write(`${JSON.stringify({ url })}\n`);
