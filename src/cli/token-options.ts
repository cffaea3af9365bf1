import { parseArgs } from 'node:util';
import type { MintOptions } from '../auth/dev-issuer.js';

export const USAGE = `Usage: npm run token -- [options]

Prints an access token signed by the embedded dev issuer, shaped like an
Authgear access token. Only the token goes to stdout, so this works:
  TOKEN=$(npm run -s token -- --sub alice --verified)

Options:
  --sub <id>          user ID, the token's sub                    (default: dev-user)
  --role <key>        Authgear role key; repeat for several roles (default: none)
  --verified          the user has a verified email or phone (is_verified)
  --anonymous         an Authgear anonymous user (is_anonymous)
  --no-reauth         the user cannot re-authenticate in place (can_reauthenticate: false;
                      already false for anonymous users)
  --auth-age <time>   time since the user last signed in (auth_time)  (default: 0s)
  --ttl <time>        lifetime of the token                            (default: 30m)
  --client-id <id>    the token's client_id   (default: first AUTHGEAR_CLIENT_ID or dev-client)
  -h, --help          show this help

Times: 45 or 45s (seconds), 10m, 1h, 2d.
The server must be running with the same PORT/HOST, and without AUTHGEAR_ENDPOINT.`;

export class UsageError extends Error {
  override name = 'UsageError';
}

const UNITS: Record<string, number> = { '': 1, s: 1, m: 60, h: 3600, d: 86_400 };

export function parseDuration(flag: string, value: string): number {
  const match = /^(\d{1,9})([smhd]?)$/.exec(value.trim());
  if (match === null) throw new UsageError(`${flag} takes a time such as 45s, 10m, 1h or 2d, got "${value}"`);
  return Number(match[1]) * (UNITS[match[2] ?? ''] ?? 1);
}

export type TokenCommand = { help: true } | { help: false; mint: MintOptions };

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
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  if (values.help) return { help: true };

  const sub = values.sub ?? 'dev-user';
  if (sub.trim() === '') throw new UsageError('--sub must not be empty');
  const roles = values.role ?? [];
  if (roles.some((role) => !/^[A-Za-z0-9_.:-]+$/.test(role))) {
    throw new UsageError('--role takes a role key such as admin or editor (letters, digits, _ . : -)');
  }
  const ttlSeconds = parseDuration('--ttl', values.ttl ?? '30m');
  if (ttlSeconds === 0) throw new UsageError('--ttl must be longer than 0s');
  const anonymous = values.anonymous ?? false;
  const clientId = values['client-id'] ?? defaultClientId;
  return {
    help: false,
    mint: {
      sub,
      roles,
      verified: values.verified ?? false,
      anonymous,
      canReauthenticate: !anonymous && !values['no-reauth'],
      authAgeSeconds: parseDuration('--auth-age', values['auth-age'] ?? '0s'),
      ttlSeconds,
      ...(clientId === undefined ? {} : { clientId }),
    },
  };
}
