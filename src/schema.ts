import { makeExecutableSchema } from '@graphql-tools/schema';
import type { GraphQLSchema } from 'graphql';
import { applyMiddleware } from 'graphql-middleware';
import type { ServerInfo } from './generated/graphql.js';
import { createPermissions } from './permissions/index.js';
import { createResolvers } from './resolvers/index.js';
import { loadTypeDefs } from './type-defs.js';

/** The executable schema: SDL from schema/, typed resolvers, and the shield over all of it. */
export function buildSchema(options: { serverInfo: ServerInfo; reauthMaxAgeSeconds: number }): GraphQLSchema {
  const schema = makeExecutableSchema({ typeDefs: loadTypeDefs(), resolvers: createResolvers(options.serverInfo) });
  return applyMiddleware(schema, createPermissions({ reauthMaxAgeSeconds: options.reauthMaxAgeSeconds }));
}
