import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { send } from './helpers/http.js';
import { findNginx } from './helpers/nginx.js';
import { testSigningKey } from './helpers/issuer.js';
import { freePort, ROOT } from './helpers/process.js';
import { startServer, type TestServer } from './helpers/server.js';
import { bearer, isClosed, openRaw, wsUrl } from './helpers/ws.js';

// End to end through a real nginx running the shipped configuration
// (deploy/nginx/): client -> nginx -> dev resolver -> API. The client binds
// to 127.0.0.2, so it is not the trusted proxy (127.0.0.1) itself.

const NGINX = findNginx();
/** .ci/run sets it: there, a missing nginx is a failure, not a skip. */
const REQUIRED = process.env['E2E_REQUIRE_NGINX'] === '1';
const CLIENT = '127.0.0.2';


async function waitForPort(port: number, nginx: ChildProcess, log: () => string): Promise<void> {
  for (let attempt = 0; attempt < 100; attempt++) {
    if (nginx.exitCode !== null) throw new Error(`nginx exited with ${nginx.exitCode}:\n${log()}`);
    const open = await new Promise<boolean>((resolve) => {
      const socket = connect(port, '127.0.0.1', () => {
        socket.end();
        resolve(true);
      });
      socket.on('error', () => resolve(false));
    });
    if (open) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`nginx did not listen on ${port}:\n${log()}`);
}

type Nginx = { url: string; stop(): Promise<void> };

/** The shipped configuration with its two addresses (marked "<-" there) pointed at this test's ports. */
async function startNginx(apiPort: number, resolverPort = apiPort): Promise<Nginx> {
  const dir = await mkdtemp(join(tmpdir(), 'starter-nginx-'));
  const port = await freePort();
  const shipped = join(ROOT, 'deploy', 'nginx');
  const site = await readFile(join(shipped, 'authgear-forward-auth.conf'), 'utf8');
  const replaced = site
    .replace('listen 8080;', `listen 127.0.0.1:${port};`)
    .replace('proxy_pass http://127.0.0.1:4000/_resolver/resolve;', `proxy_pass http://127.0.0.1:${resolverPort}/_resolver/resolve;`)
    .replace('proxy_set_header Host 127.0.0.1:4000;', `proxy_set_header Host 127.0.0.1:${resolverPort};`)
    .replace('server 127.0.0.1:4000;', `server 127.0.0.1:${apiPort};`);
  expect(replaced.includes('4000') || replaced.includes('8080'), 'every address of the shipped config was pointed at the test').toBe(false);
  await writeFile(join(dir, 'authgear-forward-auth.conf'), replaced);
  await writeFile(join(dir, 'nginx.conf'), await readFile(join(shipped, 'nginx.conf'), 'utf8'));

  const child = spawn(NGINX as string, ['-p', dir, '-e', 'stderr', '-c', 'nginx.conf'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  await waitForPort(port, child, () => output);
  return {
    url: `http://127.0.0.1:${port}/graphql`,
    async stop() {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
      await rm(dir, { recursive: true, force: true });
    },
  };
}

async function query(url: string, text: string, headers: Record<string, string> = {}) {
  const response = await send(url, {
    method: 'POST',
    localAddress: CLIENT,
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ query: text }),
  });
  return { ...response, body: JSON.parse(response.text) as { data?: unknown; errors?: { extensions?: Record<string, unknown> }[] } };
}

describe('nginx binary', () => {
  it.runIf(REQUIRED)('is installed (E2E_REQUIRE_NGINX=1)', () => {
    expect(NGINX, 'install nginx-light: apt-get install -y nginx-light').not.toBeNull();
  });
});

describe.skipIf(NGINX === null)('client -> real nginx (deploy/nginx) -> dev resolver -> API', () => {
  let api: TestServer;
  let nginx: Nginx;
  const apiPort = () => Number(new URL(api.origin).port);

  beforeAll(async () => {
    api = await startServer({ env: { TRUSTED_PROXIES: '127.0.0.1' }, deps: { devIssuerKey: await testSigningKey() } });
    nginx = await startNginx(apiPort());
  });
  afterAll(async () => {
    await nginx?.stop();
    await api?.stop();
  });

  it('a dev session cookie -> the viewer, roles included', async () => {
    const { cookie } = await api.devIssuer!.mintSession({ sub: 'alice', verified: true, roles: ['editor'] });
    const response = await query(nginx.url, '{ me { id roles isVerified } }', { cookie: `app_session=${cookie}` });
    expect(response.body).toEqual({ data: { me: { id: 'alice', roles: ['editor'], isVerified: true } } });
  });

  it('a Bearer token -> the viewer, resolved by the resolver', async () => {
    const token = await api.devIssuer!.mint({ sub: 'bob' });
    const response = await query(nginx.url, '{ me { id } }', { authorization: `Bearer ${token}` });
    expect(response.body).toEqual({ data: { me: { id: 'bob' } } });
  });

  it('forged x-authgear-* headers next to a real session are overwritten by nginx', async () => {
    const { cookie } = await api.devIssuer!.mintSession({ sub: 'alice', roles: ['editor'] });
    const response = await query(nginx.url, '{ me { id roles } }', {
      cookie: `app_session=${cookie}`,
      'x-authgear-user-id': 'victim',
      'x-authgear-user-roles': 'admin',
      'x-authgear-session-acr': 'forged',
    });
    expect(response.body).toEqual({ data: { me: { id: 'alice', roles: ['editor'] } } });
  });

  it('forged x-authgear-* headers without a credential are cleared: a guest, never the forged user', async () => {
    const response = await query(nginx.url, '{ me { id } }', { 'x-authgear-session-valid': 'true', 'x-authgear-user-id': 'victim', 'x-authgear-user-roles': 'admin' });
    expect(response.status).toBe(200);
    expect(response.body.errors?.[0]?.extensions?.['code']).toBe('UNAUTHENTICATED');
    expect(response.body.data).toBeNull();
  });

  it('a revoked session is refused on the very next request', async () => {
    const { cookie, sessionId } = await api.devIssuer!.mintSession({ sub: 'carol' });
    const headers = { cookie: `app_session=${cookie}` };
    expect((await query(nginx.url, '{ me { id } }', headers)).body).toEqual({ data: { me: { id: 'carol' } } });
    api.devResolver!.revokeSession(sessionId);
    const refused = await query(nginx.url, '{ me { id } }', headers);
    expect(refused.status).toBe(401);
    expect(refused.body.errors?.[0]?.extensions).toMatchObject({ code: 'UNAUTHENTICATED', reason: 'invalid_token' });
  });

  it('a disabled user is refused through nginx at once, while the same JWT sent to the API directly still passes until it expires', async () => {
    const token = await api.devIssuer!.mint({ sub: 'dave' });
    api.devResolver!.disableUser('dave');
    expect((await query(nginx.url, '{ me { id } }', { authorization: `Bearer ${token}` })).status).toBe(401);
    const direct = await send(api.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ query: '{ me { id } }' }),
    });
    expect(JSON.parse(direct.text)).toEqual({ data: { me: { id: 'dave' } } });
  });

  it('a disabled user is refused over WebSocket too: a connection_init token through nginx -> close 4403', async () => {
    const token = await api.devIssuer!.mint({ sub: 'erin', verified: true });
    const before = await openRaw(wsUrl(nginx.url), { localAddress: CLIENT });
    expect(isClosed(await before.init(bearer(token))), 'an enabled user is acknowledged').toBe(false);
    await before.close();
    api.devResolver!.disableUser('erin');
    const after = await openRaw(wsUrl(nginx.url), { localAddress: CLIENT });
    const answer = await after.init(bearer(token));
    expect(isClosed(answer) ? answer.code : answer).toBe(4403);
  });

  it("the API logs the client's own address, not a spoofed X-Forwarded-For", async () => {
    await query(nginx.url, '{ serverInfo { name } }', { 'x-forwarded-for': '203.0.113.66' });
    const line = api.logs.filter((entry) => entry['path'] === '/graphql').at(-1);
    expect(line).toMatchObject({ clientAddress: CLIENT });
  });

  it('an unreachable resolver -> 503 AUTH_PROVIDER_UNAVAILABLE with Retry-After', async () => {
    const broken = await startNginx(apiPort(), await freePort());
    try {
      const response = await query(broken.url, '{ serverInfo { name } }');
      expect(response.status).toBe(503);
      expect(response.headers['retry-after']).toBe('5');
      expect(response.body.errors?.[0]?.extensions?.['code']).toBe('AUTH_PROVIDER_UNAVAILABLE');
    } finally {
      await broken.stop();
    }
  });
});
