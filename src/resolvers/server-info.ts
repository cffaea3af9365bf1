import type { QueryResolvers, ServerInfo } from '../generated/graphql.js';

export function serverInfoQueries(info: ServerInfo): Pick<QueryResolvers, 'serverInfo'> {
  const frozen = Object.freeze({ ...info });
  return { serverInfo: () => frozen };
}
