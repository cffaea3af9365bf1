import { allow } from 'graphql-shield';
import type { ModuleRootFields } from '../../generated/graphql.js';
import { defineModule } from '../../module.js';
import type { Rule } from '../../permissions/index.js';
import { isAuthenticated } from '../../permissions/rules.js';
import { readSchemaFile } from '../../type-defs.js';
import { Viewer, viewerQueries } from './resolvers.js';

/**
 * Who is calling and where they stand: `me`, `serverInfo` and `rateLimit`.
 * Built on the same module interface as any domain, so the machinery has no
 * field of its own.
 */
export const viewerModule = defineModule({
  name: 'viewer',
  typeDefs: readSchemaFile('viewer.graphql'),
  examples: `# Your dev token is already in the Authorization header (Headers tab).
query Me {
  me {
    id
    roles
    isVerified
    isAnonymous
    authenticatedAt
    # From the token's claims, else the issuer's UserInfo (npm run token -- --email ... --name ...).
    profile {
      email
      name
    }
  }
}`,
  models: { Viewer: '../../auth/viewer.js#Viewer', RateLimit: '../../limits/budget.js#Standing' },
  resolvers: ({ config, server }) => ({
    Query: viewerQueries({ ...server, reauthMaxAgeSeconds: config.auth.reauthMaxAgeSeconds }),
    Viewer,
  }),
  permissions: () => {
    const Query: Record<ModuleRootFields['viewer']['Query'], Rule> = {
      serverInfo: allow, //                  public: clients discover the issuer here
      rateLimit: allow, //                   public: a guest sees its address's budget
      me: isAuthenticated, //                any user (anonymous ones included) or service
    };
    return {
      Query,
      Viewer: allow, //                      reachable only through `me`, already guarded
      Profile: allow, //                     only through Viewer.profile, which answers the request's own user alone (auth/profiles.ts); a service's is null, no error
      ServerInfo: allow, //                  public
      RateLimit: allow, //                   public, the caller's own budget
    };
  },
});
