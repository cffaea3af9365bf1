import type { ViewerResolvers } from '../../generated/graphql.js';

/**
 * Viewer.profile: the token's claims first, then the issuer's UserInfo
 * (src/auth/profiles.ts). The Profile fields themselves are plain properties.
 */
export const viewerProfile: NonNullable<ViewerResolvers['profile']> = (viewer, _args, ctx, info) => ctx.profiles.profileOf(viewer, ctx, info);
