import { collectSubFields } from '@graphql-tools/utils';
import { getNamedType, isObjectType, type FieldNode, type GraphQLError, type GraphQLResolveInfo } from 'graphql';
import { coded } from '../errors.js';
import type { Logger } from '../logger.js';
import { accessTokenOf, type Offered } from './credentials.js';
import { ProfileCache } from './profile-cache.js';
import { hasProfileClaims, mergeProfiles, profileFields, profileFromClaims, type Profile, type ProfileField } from './profile.js';
import { UserInfoError, type UserInfoClient } from './userinfo.js';
import type { UserViewer, Viewer } from './viewer.js';

/** What a profile lookup needs of the request it runs for (the GraphQL context has all of it). */
export type ProfileRequest = {
  /** Whose request it is: the only user whose profile it may read. */
  readonly viewer: Viewer | null;
  readonly requestId: string;
  /** What the request authenticated with; its access token is read only when UserInfo must be asked. */
  readonly credential?: Offered;
  /** This operation's UserInfo answer, once asked: one call per operation, however many times it selects the profile. */
  profileFromIssuer?: Promise<Profile>;
};

export type Profiles = Readonly<{
  /**
   * The viewer's profile for the operation being executed (`info`: the
   * profile field): null for a service; else each selected field from the
   * token's own claims, and from UserInfo (cached per user) when the token
   * lacks one. A failure is a coded GraphQLError for that field alone.
   */
  profileOf(viewer: Viewer, request: ProfileRequest, info: GraphQLResolveInfo): Profile | null | Promise<Profile>;
  /** Forgets what is cached for the user: their profile changed, or they were removed. */
  forget(userId: string): void;
}>;

export type ProfilesOptions = Readonly<{
  userinfo: UserInfoClient;
  /** PROFILE_CACHE_TTL; 0 keeps nothing (concurrent operations still share a call). */
  cacheTtlSeconds: number;
  maxCachedUsers?: number;
  logger: Logger;
}>;

export const MAX_CACHED_PROFILES = 10_000;

export function createProfiles(options: ProfilesOptions): Profiles {
  const { userinfo, logger } = options;
  const cache = new ProfileCache<Profile>(options.cacheTtlSeconds * 1000, options.maxCachedUsers ?? MAX_CACHED_PROFILES);

  async function load(viewer: UserViewer, accessToken: string, requestId: string): Promise<Profile> {
    try {
      return profileFromClaims(await userinfo.claims(accessToken, viewer.id));
    } catch (error) {
      if (!(error instanceof UserInfoError)) throw error;
      // The user id and the failure only: no claim, no token.
      const line = { requestId, viewerId: viewer.id, userinfoFailure: error.failure, detail: error.detail };
      if (error.failure === 'token_refused') logger.info(line, 'userinfo refused the access token');
      else logger.warn(line, 'userinfo failed');
      throw fieldError(error);
    }
  }

  function fromIssuer(viewer: UserViewer, request: ProfileRequest): Promise<Profile> {
    if (request.profileFromIssuer !== undefined) return request.profileFromIssuer;
    const accessToken = request.credential === undefined ? null : accessTokenOf(request.credential);
    const answer =
      accessToken === null ? Promise.reject(accessTokenRequired()) : cache.load(viewer.id, Date.now(), () => load(viewer, accessToken, request.requestId));
    request.profileFromIssuer = answer;
    return answer;
  }

  return {
    profileOf(viewer, request, info) {
      if (viewer.kind !== 'user') return null;
      // The request's token, cache entry and memo are its own viewer's: no other user's profile may come out of them.
      if (request.viewer?.kind !== 'user' || request.viewer.id !== viewer.id) throw ownProfileOnly();
      // The warm path: one map lookup, and no copy unless the token has claims of its own.
      const cached = cache.get(viewer.id, Date.now());
      if (cached !== undefined) return hasProfileClaims(viewer.claims) ? mergeProfiles(profileFromClaims(viewer.claims), cached) : cached;
      const fromToken = profileFromClaims(viewer.claims);
      if (selectedFields(info).every((field) => fromToken[field] !== null)) return fromToken;
      return fromIssuer(viewer, request).then((issued) => mergeProfiles(fromToken, issued));
    },
    forget: (userId) => cache.drop(userId),
  };
}

/** The Profile fields this selection of the profile field asks for, through fragments, @skip and @include. */
function selectedFields(info: GraphQLResolveInfo): ProfileField[] {
  const type = getNamedType(info.returnType);
  if (!isObjectType(type)) throw new Error(`${info.parentType.name}.${info.fieldName} must return an object type`);
  const { fields } = collectSubFields(info.schema, info.fragments, info.variableValues, type, info.fieldNodes as FieldNode[]);
  return profileFields([...fields.values()].map((nodes) => (nodes[0] as FieldNode).name.value));
}

function fieldError(error: UserInfoError): GraphQLError {
  switch (error.failure) {
    case 'token_refused':
      return coded('The issuer\'s UserInfo endpoint refused the access token (the session was revoked or the user disabled): sign in again.', 'UNAUTHENTICATED', {
        reason: 'userinfo_token_refused',
      });
    case 'unusable':
      return coded('The issuer\'s UserInfo endpoint gave nothing this API can use (see the server log); the rest of the operation was answered.', 'SERVICE_UNAVAILABLE', {
        retryable: false,
        reason: 'userinfo_unusable',
      });
    default:
      return coded('The issuer\'s UserInfo endpoint is unavailable, so the profile cannot be read now; the rest of the operation was answered. Retry later.', 'SERVICE_UNAVAILABLE', {
        retryable: true,
        reason: 'userinfo_unavailable',
      });
  }
}

const ownProfileOnly = () => coded('A profile is shown to its own user only.', 'FORBIDDEN');

const accessTokenRequired = () =>
  coded(
    'The profile comes from the issuer\'s UserInfo endpoint, which needs the user\'s access token, and this request was authenticated without one (a session cookie through the proxy). Send Authorization: Bearer <access token> with the request to read it.',
    'FORBIDDEN',
    { reason: 'access_token_required' },
  );
