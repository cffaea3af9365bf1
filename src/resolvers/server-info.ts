import type { QueryResolvers, ServerInfo } from '../generated/graphql.js';

export function serverInfoQueries(info: ServerInfo): Pick<QueryResolvers, 'serverInfo' | 'rateLimit'> {
  const frozen = Object.freeze({ ...info });
  return {
    serverInfo: () => frozen,
    rateLimit: (_parent, _args, ctx) => ctx.rateLimit ?? null,
  };
}
