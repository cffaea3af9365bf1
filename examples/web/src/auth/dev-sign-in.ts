import type { Session } from './session';
import type { TokenSource } from './tokens';

/**
 * Development sign-in, with no Authgear project: the API's embedded dev
 * issuer mints a token for a persona (POST /_dev/tokens, loopback only).
 */

export type Persona = Readonly<{
  sub: string;
  roles: readonly string[];
  verified: boolean;
  anonymous: boolean;
  /** The lifetime of each token; a few seconds shows the renewal at work. */
  ttlSeconds: number;
}>;

async function mint(apiUrl: string, persona: Persona): Promise<string> {
  const response = await fetch(new URL('/_dev/tokens', apiUrl), {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(persona),
  });
  const body = (await response.json().catch(() => null)) as { accessToken?: string; errors?: { message: string }[] } | null;
  if (!response.ok || body?.accessToken === undefined) {
    throw new Error(body?.errors?.[0]?.message ?? `The dev issuer answered ${response.status}: is the API running without AUTHGEAR_ENDPOINT?`);
  }
  return body.accessToken;
}

export async function signInAsPersona(apiUrl: string, persona: Persona): Promise<Session> {
  let token = await mint(apiUrl, persona);
  // Renewed only when the API refuses it, not ahead of its expiry as
  // Authgear's SDK does: so development walks the refusal paths of
  // auth/tokens.ts that a real app meets on clock skew or revocation.
  const tokens: TokenSource = {
    current: async () => token,
    renew: async () => (token = await mint(apiUrl, persona)),
  };
  return { method: `dev persona ${persona.sub}`, tokens, signOut: async () => undefined };
}
