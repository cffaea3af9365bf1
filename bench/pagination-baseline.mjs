// The yardstick of the pagination figures: Apollo Server 5's standalone
// server with the same SDL, resolvers that run the project's own keyset SQL
// through a pg pool of the same size, and no authentication, permissions or
// outage handling. It lists the notes of BENCH_OWNER in DATABASE_URL.
import { ApolloServer } from '@apollo/server';
import { startStandaloneServer } from '@apollo/server/standalone';
import { makeExecutableSchema } from '@graphql-tools/schema';
import pg from 'pg';
import { createNoteRepository } from '../dist/modules/notes/repository.js';
import { pageRequest } from '../dist/db/pagination.js';
import { DateTime } from '../dist/scalars.js';
import { modules } from '../dist/modules/index.js';
import { typeDefsOf } from '../dist/schema.js';

const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL, max: 10 });
const notes = createNoteRepository({ query: async (sql, params = []) => (await pool.query(sql, [...params])).rows });
const owner = { ownerId: process.env.BENCH_OWNER ?? 'bench-pager' };
const serverInfo = { name: 'pagination-baseline', version: '0.0.0', issuer: 'none', devIssuer: false, reauthMaxAgeSeconds: 300 };

const schema = makeExecutableSchema({
  typeDefs: typeDefsOf(modules),
  resolvers: {
    DateTime,
    Query: {
      serverInfo: () => serverInfo,
      myNotes: (_parent, args) => notes.page(owner, pageRequest(args)),
      allNotes: (_parent, { ownerId, ...args }) => notes.page('everyone', pageRequest(args), ownerId ?? null),
    },
  },
});
const server = new ApolloServer({ schema });
const { url } = await startStandaloneServer(server, { listen: { host: '127.0.0.1', port: Number(process.env.PORT ?? 0) } });
process.stdout.write(`${JSON.stringify({ url })}\n`);
