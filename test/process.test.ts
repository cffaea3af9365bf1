import { mkdtemp, rm, stat } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { codes, execute, show } from './helpers/graphql.js';
import { runEntry } from './helpers/process.js';
import { bearer, connectRaw, wsUrl } from './helpers/ws.js';

// The real entry points, as a user runs them: src/main.ts and src/cli/token.ts.

let workDir: string;
beforeAll(async () => {
  workDir = await mkdtemp(join(tmpdir(), 'starter-process-'));
});
afterAll(async () => {
  await rm(workDir, { recursive: true, force: true });
});

describe('npm start with zero configuration', () => {
  it('serves the API with the dev issuer, prints a ready token, and exits 0 on SIGTERM', async () => {
    const keyDir = join(workDir, 'zero-config-keys');
    const app = runEntry('src/main.ts', [], { PORT: '0', HOST: '127.0.0.1', DEV_ISSUER_DIR: keyDir });
    const [, url] = await app.waitFor(/GraphQL API\s+(http:\/\/\S+\/graphql)/);
    const [, token] = await app.waitFor(/\n(eyJ[\w-]+\.[\w-]+\.[\w-]+)\n/);
    expect(app.stdout()).toMatch(/Dev issuer\s+http:\/\/127\.0\.0\.1:\d+ .*NOT for production/);
    expect(app.stdout()).toContain('npm run token -- --sub alice');

    const me = await execute(url as string, '{ me { id roles isVerified } }', { token });
    expect(me.body, show(me)).toEqual({ data: { me: { id: 'dev-admin', roles: ['admin'], isVerified: true } } });

    // A token minted by the CLI for the same server works too, and the dev UserInfo answers what it set.
    const cli = runEntry('src/cli/token.ts', ['--sub', 'alice', '--verified', '--email', 'alice@example.com', '--name', 'Alice Liddell'], {
      PORT: new URL(url as string).port,
      HOST: '127.0.0.1',
      DEV_ISSUER_DIR: keyDir,
    });
    expect(await cli.exited, cli.stderr()).toBe(0);
    const alice = await execute(url as string, '{ me { id isVerified profile { email emailVerified name } } }', { token: cli.stdout().trim() });
    expect(alice.body, show(alice)).toEqual({
      data: { me: { id: 'alice', isVerified: true, profile: { email: 'alice@example.com', emailVerified: true, name: 'Alice Liddell' } } },
    });
    const forbidden = await execute(url as string, '{ allNotes { edges { node { id } } } }', { token: cli.stdout().trim() });
    expect(codes(forbidden)).toEqual(['FORBIDDEN']);

    expect((await stat(join(keyDir, 'signing-key.json'))).mode & 0o777).toBe(0o600);

    app.child.kill('SIGTERM');
    expect(await app.exited, app.stderr()).toBe(0);
  });

  it('SIGTERM closes WebSockets with 1001 (a subscription with the dev token was running) and exits 0', async () => {
    const app = runEntry('src/main.ts', [], { PORT: '0', HOST: '127.0.0.1', DEV_ISSUER_DIR: join(workDir, 'sigterm-keys') });
    const [, url] = await app.waitFor(/GraphQL API\s+(http:\/\/\S+\/graphql)/);
    const [, token] = await app.waitFor(/\n(eyJ[\w-]+\.[\w-]+\.[\w-]+)\n/);
    const subscriber = await connectRaw(wsUrl(url as string), bearer(token as string));
    subscriber.subscribe('mine', 'subscription { myNoteEvents { kind } }');
    subscriber.subscribe('probe', '{ __typename }');
    await subscriber.next((m) => m.id === 'probe' && m.type === 'complete');
    app.child.kill('SIGTERM');
    expect(await subscriber.closed).toEqual({ code: 1001, reason: 'The server is shutting down: reconnect.' });
    expect(await app.exited, app.stderr()).toBe(0);
  });

  it('a bad configuration stops start-up with one line per problem and exit code 1', async () => {
    const app = runEntry('src/main.ts', [], { PORT: 'http', AUTHGEAR_ENDPOINT: 'http://auth.example.com', NODE_ENV: 'development' });
    expect(await app.exited).toBe(1);
    const lines = app.stderr().trim().split('\n');
    expect(lines).toEqual([
      'config: AUTHGEAR_ENDPOINT: must use https:// (http:// is allowed only for loopback hosts), got "http://auth.example.com", e.g. AUTHGEAR_ENDPOINT=https://myapp.authgear.cloud',
      'config: PORT: must be a whole number from 0 to 65535, got "http", e.g. PORT=4000',
      'Fix these in the environment or in .env (see .env.example), then start again.',
    ]);
  });

  it('a port in use -> one line saying the way out (stop the other server, or set PORT), exit 1, and nothing else', async () => {
    const occupant = await new Promise<Server>((resolve) => {
      const server = createServer().listen(0, '127.0.0.1', () => resolve(server));
    });
    try {
      const { port } = occupant.address() as { port: number };
      const app = runEntry('src/main.ts', [], { PORT: String(port), HOST: '127.0.0.1', DEV_ISSUER_DIR: join(workDir, 'in-use-keys') });
      expect(await app.exited).toBe(1);
      expect(app.stderr()).toBe(
        `Cannot start: port ${port} on 127.0.0.1 is already in use, perhaps by a server started earlier: stop that one, or set PORT to a free port, e.g. PORT=${port + 1}\n`,
      );
      expect(app.stdout(), 'no log line after the refusal').toBe('');
    } finally {
      await new Promise((resolve) => occupant.close(resolve));
    }
  });

  it('a misspelt variable (AUTHGEAR_ENDPIONT) is named at start-up with the one it resembles', async () => {
    const app = runEntry('src/main.ts', [], {
      PORT: '0',
      HOST: '127.0.0.1',
      DEV_ISSUER_DIR: join(workDir, 'typo-keys'),
      AUTHGEAR_ENDPIONT: 'https://myapp.authgear.cloud',
    });
    // The typo leaves AUTHGEAR_ENDPOINT unset, so the dev issuer starts: the warning is the only clue.
    await app.waitFor(/Dev issuer\s+http:\/\/127\.0\.0\.1/);
    expect(app.stderr()).toBe('config warning: AUTHGEAR_ENDPIONT is not a variable this server reads; did you mean AUTHGEAR_ENDPOINT?\n');
    app.child.kill('SIGTERM');
    expect(await app.exited).toBe(0);
  });

  it('NODE_ENV=production without AUTHGEAR_ENDPOINT refuses to start', async () => {
    const app = runEntry('src/main.ts', [], { NODE_ENV: 'production', DATABASE_URL: 'postgres://127.0.0.1:1/x' });
    expect(await app.exited).toBe(1);
    expect(app.stderr()).toMatch(/AUTHGEAR_ENDPOINT: is required when NODE_ENV=production/);
  });
});

describe('npm run token', () => {
  const env = () => ({ DEV_ISSUER_DIR: join(workDir, 'cli-keys') });

  it('--help explains every flag, and that only the dev issuer controls need the server running', async () => {
    const cli = runEntry('src/cli/token.ts', ['--help'], env());
    expect(await cli.exited).toBe(0);
    for (const flag of ['--sub', '--role', '--verified', '--anonymous', '--no-reauth', '--auth-age', '--ttl', '--client-id', '--email', '--phone', '--name']) {
      expect(cli.stdout()).toContain(flag);
    }
    expect(cli.stdout()).toContain('Dev issuer controls (these need the server running');
    expect(cli.stdout()).toContain('Minting needs no running server');
  });

  it('prints only the token on stdout, with the claims asked for', async () => {
    const cli = runEntry(
      'src/cli/token.ts',
      ['--sub', 'bob', '--role', 'admin', '--role', 'editor', '--verified', '--anonymous', '--auth-age', '10m', '--ttl', '1h'],
      env(),
    );
    expect(await cli.exited).toBe(0);
    const token = cli.stdout();
    expect(token).toMatch(/^eyJ[\w-]+\.[\w-]+\.[\w-]+\n$/);
    const claims = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString()) as Record<string, unknown>;
    expect(claims).toMatchObject({
      sub: 'bob',
      iss: 'http://127.0.0.1:4000',
      aud: ['http://127.0.0.1:4000'],
      'https://authgear.com/claims/user/roles': ['admin', 'editor'],
      'https://authgear.com/claims/user/is_verified': true,
      'https://authgear.com/claims/user/is_anonymous': true,
      'https://authgear.com/claims/user/can_reauthenticate': false,
    });
    expect((claims['exp'] as number) - (claims['iat'] as number)).toBe(3600);
    expect((claims['iat'] as number) - (claims['auth_time'] as number)).toBe(600);
  });

  it.each([
    [['--bogus'], /Unknown option '--bogus'/],
    [['--ttl', '5x'], /--ttl takes a time such as/],
    [['--role', 'not a role'], /--role takes a role key/],
    [['--sub'], /argument missing/],
    [['--email', 'alice'], /--email takes an address/],
    [['--phone', '98765432'], /--phone takes an E.164 number/],
    [['--service', 'reporting', '--name', 'Reporting'], /--name sets what the dev UserInfo answers for a user access token/],
  ])('bad flags %j -> exit 2 with a clear message', async (args, message) => {
    const cli = runEntry('src/cli/token.ts', args, env());
    expect(await cli.exited).toBe(2);
    expect(cli.stdout()).toBe('');
    expect(cli.stderr()).toMatch(message);
  });

  it('refuses to mint when AUTHGEAR_ENDPOINT points at a real issuer', async () => {
    const cli = runEntry('src/cli/token.ts', [], { ...env(), AUTHGEAR_ENDPOINT: 'https://myapp.authgear.cloud' });
    expect(await cli.exited).toBe(1);
    expect(cli.stderr()).toMatch(/get one from Authgear/);
  });
});
