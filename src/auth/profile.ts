import type { JWTPayload } from 'jose';

/**
 * A user's standard OpenID Connect claims (OIDC Core 5.1), under the names
 * the GraphQL schema gives them. null: the user has no such value, or the
 * issuer does not share it.
 */
export type Profile = Readonly<{
  email: string | null;
  emailVerified: boolean | null;
  phoneNumber: string | null;
  phoneNumberVerified: boolean | null;
  name: string | null;
  givenName: string | null;
  familyName: string | null;
  picture: string | null;
  locale: string | null;
}>;

export type ProfileField = keyof Profile;

/** Each field, the claim it is read from, and the JSON type that claim must have. */
export const PROFILE_CLAIMS: Readonly<Record<ProfileField, readonly [claim: string, type: 'string' | 'boolean']>> = Object.freeze({
  email: ['email', 'string'],
  emailVerified: ['email_verified', 'boolean'],
  phoneNumber: ['phone_number', 'string'],
  phoneNumberVerified: ['phone_number_verified', 'boolean'],
  name: ['name', 'string'],
  givenName: ['given_name', 'string'],
  familyName: ['family_name', 'string'],
  picture: ['picture', 'string'],
  locale: ['locale', 'string'],
});

export const PROFILE_FIELDS = Object.freeze(Object.keys(PROFILE_CLAIMS) as ProfileField[]);

const isProfileField = (name: string): name is ProfileField => Object.hasOwn(PROFILE_CLAIMS, name);

/** The profile fields among GraphQL field names (others, such as __typename, are ignored). */
export function profileFields(names: Iterable<string>): ProfileField[] {
  const fields: ProfileField[] = [];
  for (const name of names) if (isProfileField(name) && !fields.includes(name)) fields.push(name);
  return fields;
}

/** A claim of the wrong JSON type counts as absent: nothing untyped reaches a client. */
function claimValue(claims: Readonly<Record<string, unknown>>, field: ProfileField): string | boolean | null {
  const [claim, type] = PROFILE_CLAIMS[field];
  const value = claims[claim];
  return typeof value === type ? (value as string | boolean) : null;
}

/** The profile a set of claims (a verified token's, or a UserInfo answer) holds. */
export function profileFromClaims(claims: Readonly<Record<string, unknown>>): Profile {
  const profile: Record<string, string | boolean | null> = {};
  for (const field of PROFILE_FIELDS) profile[field] = claimValue(claims, field);
  return Object.freeze(profile) as Profile;
}

const CLAIM_TYPES = PROFILE_FIELDS.map((field) => PROFILE_CLAIMS[field]);

/**
 * True when the token carries at least one profile claim (no SPA token from
 * Authgear does, unless a hook adds them). On every warm profile read: no
 * allocation.
 */
export function hasProfileClaims(claims: Readonly<JWTPayload>): boolean {
  for (const [claim, type] of CLAIM_TYPES) if (typeof claims[claim] === type) return true;
  return false;
}

/** Per field: the token's value when it has one, else the issuer's. */
export function mergeProfiles(fromToken: Profile, fromIssuer: Profile): Profile {
  const merged: Record<string, string | boolean | null> = {};
  for (const field of PROFILE_FIELDS) merged[field] = fromToken[field] ?? fromIssuer[field];
  return Object.freeze(merged) as Profile;
}
