import { parseArgs } from 'node:util';
import { decodeJwt } from 'jose';
import type { MintOptions } from '../auth/dev-issuer.js';

export const USAGE = `Usage: npm run token -- [options]

Prints a credential signed by the embedded dev issuer, shaped like
Authgear's. Only the credential goes to stdout, so this works:
  TOKEN=$(npm run -s token -- --sub alice --verified)

A user access token (the default):
  --sub <id>          user ID, the token's sub                    (default: dev-user)
  --role <key>        Authgear role key; repeat for several roles (default: none)
  --verified          the user has a verified email or phone (is_verified)
  --anonymous         an Authgear anonymous user (is_anonymous)
  --no-reauth         the user cannot re-authenticate in place (can_reauthenticate: false;
                      already false for anonymous users)
  --auth-age <time>   time since the user last signed in (auth_time)  (default: 0s)
  --ttl <time>        lifetime of the token                (default: 30m; services 1h; sessions 1d)
  --client-id <id>    the token's client_id   (default: first AUTHGEAR_CLIENT_ID or dev-client)

  What the dev issuer's UserInfo endpoint answers for this token (Viewer.profile;
  carried inside the token, read by that endpoint only; verified follows --verified):
  --email <address>   e.g. alice@example.com
  --phone <number>    E.164, e.g. +85298765432
  --name <full name>  e.g. "Alice Liddell"

A machine-to-machine token (client credentials), for a backend:
  --service <id>      the M2M app's client ID: sub client_id_<id>, aud the dev API resource
  --scope <scope>     a granted scope, e.g. reports:read; repeat for several

A dev session cookie, for forward authentication (nginx -> /_resolver/resolve):
  --session           prints app_session=<value> for the user flags above; send it as a Cookie

Dev issuer controls (these need the server running; its resolver sees them at once):
  --revoke-session <cookie or session id>
  --disable-user <id>     refuse every session and token of this user: the resolver at once, and the
                          JWT mode too (the server signs and sends itself Authgear's user.disabled webhook)
  --enable-user <id>      lift it (user.reenabled)
  --delete-user <id>      refuse the user for good and erase their data (user.deleted)

  -h, --help          show this help

Times: 45 or 45s (seconds), 10m, 1h, 2d.
Minting needs no running server: the credential is signed with the key in
DEV_ISSUER_DIR for the issuer at this PORT and HOST, so use the same PORT,
HOST and DEV_ISSUER_DIR as the server (and no AUTHGEAR_ENDPOINT). Only the
dev issuer controls talk to the running server.`;

export class UsageError extends Error {
  override name = 'UsageError';
}

const UNITS: Record<string, number> = { '': 1, s: 1, m: 60, h: 3600, d: 86_400 };

export function parseDuration(flag: string, value: string): number {
  const match = /^(\d{1,9})([smhd]?)$/.exec(value.trim());
  if (match === null) throw new UsageError(`${flag} takes a time such as 45s, 10m, 1h or 2d, got "${value}"`);
  return Number(match[1]) * (UNITS[match[2] ?? ''] ?? 1);
}

export type ControlAction = 'revoke-session' | 'disable-user' | 'enable-user' | 'delete-user';

export type TokenCommand =
  | { kind: 'help' }
  | { kind: 'user'; mint: MintOptions }
  | { kind: 'session'; mint: MintOptions }
  | { kind: 'service'; clientId: string; scopes: string[]; ttlSeconds: number }
  | { kind: 'control'; action: ControlAction; id: string };

const KEY = /^[A-Za-z0-9_.:-]+$/;

export function parseTokenArgs(argv: readonly string[], defaultClientId: string | undefined): TokenCommand {
  let values;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      strict: true,
      allowPositionals: false,
      options: {
        sub: { type: 'string' },
        role: { type: 'string', multiple: true },
        verified: { type: 'boolean' },
        anonymous: { type: 'boolean' },
        'no-reauth': { type: 'boolean' },
        'auth-age': { type: 'string' },
        ttl: { type: 'string' },
        'client-id': { type: 'string' },
        email: { type: 'string' },
        phone: { type: 'string' },
        name: { type: 'string' },
        service: { type: 'string' },
        scope: { type: 'string', multiple: true },
        session: { type: 'boolean' },
        'revoke-session': { type: 'string' },
        'disable-user': { type: 'string' },
        'enable-user': { type: 'string' },
        'delete-user': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  if (values.help) return { kind: 'help' };

  const controls = (['revoke-session', 'disable-user', 'enable-user', 'delete-user'] as const).filter((action) => values[action] !== undefined);
  const modes = [...controls.map((action) => `--${action}`), ...(values.service === undefined ? [] : ['--service']), ...(values.session ? ['--session'] : [])];
  if (modes.length > 1) throw new UsageError(`choose one of ${modes.join(', ')}`);
  const [control] = controls;
  if (control !== undefined) return { kind: 'control', action: control, id: controlTarget(control, values[control] ?? '') };

  const ttl = (fallback: string) => {
    const seconds = parseDuration('--ttl', values.ttl ?? fallback);
    if (seconds === 0) throw new UsageError('--ttl must be longer than 0s');
    return seconds;
  };

  const profileFlags = (['email', 'phone', 'name'] as const).filter((flag) => values[flag] !== undefined);
  if (profileFlags.length > 0 && (values.service !== undefined || values.session)) {
    throw new UsageError(`--${profileFlags[0]} sets what the dev UserInfo answers for a user access token: not for --service or --session`);
  }

  if (values.service !== undefined) {
    if (!KEY.test(values.service)) throw new UsageError('--service takes a client ID such as reporting (letters, digits, _ . : -)');
    const scopes = values.scope ?? [];
    if (scopes.some((scope) => !/^[\x21\x23-\x5b\x5d-\x7e]+$/.test(scope))) {
      throw new UsageError('--scope takes one scope token such as reports:read (no spaces or quotes)');
    }
    return { kind: 'service', clientId: values.service, scopes, ttlSeconds: ttl('1h') };
  }
  if (values.scope !== undefined) throw new UsageError('--scope is for --service tokens: user tokens carry no scopes');

  const sub = values.sub ?? 'dev-user';
  if (sub.trim() === '') throw new UsageError('--sub must not be empty');
  const roles = values.role ?? [];
  if (roles.some((role) => !KEY.test(role))) {
    throw new UsageError('--role takes a role key such as admin or editor (letters, digits, _ . : -)');
  }
  const anonymous = values.anonymous ?? false;
  const clientId = values['client-id'] ?? defaultClientId;
  const mint: MintOptions = {
    sub,
    roles,
    verified: values.verified ?? false,
    anonymous,
    canReauthenticate: !anonymous && !values['no-reauth'],
    authAgeSeconds: parseDuration('--auth-age', values['auth-age'] ?? '0s'),
    ttlSeconds: ttl(values.session ? '1d' : '30m'),
    ...(clientId === undefined ? {} : { clientId }),
    ...(profileFlags.length === 0 ? {} : { userinfo: userinfoClaims(values, values.verified ?? false) }),
  };
  return values.session ? { kind: 'session', mint } : { kind: 'user', mint };
}

/** A session is named by its id, or by the cookie printed by --session (which carries it). */
function controlTarget(action: ControlAction, value: string): string {
  const raw = value.trim().replace(/^app_session=/, '');
  if (raw === '') throw new UsageError(`--${action} needs a value`);
  if (action !== 'revoke-session' || !raw.includes('.')) return raw;
  try {
    const sid = decodeJwt(raw)['sid'];
    if (typeof sid === 'string') return sid;
  } catch {
    // not a cookie printed by --session; reported below
  }
  throw new UsageError('--revoke-session takes a session id or a cookie printed by --session');
}

/** The standard claims the dev UserInfo endpoint answers, from --email, --phone and --name. */
function userinfoClaims(values: { email?: string; phone?: string; name?: string }, verified: boolean): Record<string, string | boolean> {
  const claims: Record<string, string | boolean> = {};
  if (values.email !== undefined) {
    if (!/^[^\s@]+@[^\s@]+$/.test(values.email)) throw new UsageError(`--email takes an address such as alice@example.com, got "${values.email}"`);
    Object.assign(claims, { email: values.email, email_verified: verified });
  }
  if (values.phone !== undefined) {
    if (!/^\+[1-9]\d{1,14}$/.test(values.phone)) throw new UsageError(`--phone takes an E.164 number such as +85298765432, got "${values.phone}"`);
    Object.assign(claims, { phone_number: values.phone, phone_number_verified: verified });
  }
  if (values.name !== undefined) {
    const name = values.name.trim();
    if (name === '' || name.length > 200) throw new UsageError('--name takes a full name of 1 to 200 characters, e.g. "Alice Liddell"');
    claims['name'] = name;
  }
  return claims;
}
