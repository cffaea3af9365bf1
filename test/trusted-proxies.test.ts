import { networkInterfaces } from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { send, sendGraphQL } from './helpers/http.js';
import { startTestIssuer, type TestIssuer } from './helpers/issuer.js';
import { startServer, type TestServer } from './helpers/server.js';

// TRUSTED_PROXIES over real connections (DESIGN 11, issue 10): config.test.ts
// checks which entries parse; these check which peers they then trust.

/** Containers without IPv6 have no ::1 to listen or connect on. */
const HAS_IPV6_LOOPBACK = Object.values(networkInterfaces()).some((list) => list?.some((entry) => entry.address === '::1'));

const RESOLVED = { 'x-authgear-session-valid': 'true', 'x-authgear-user-id': 'cookie-user' };
const ME = '{ me { id } }';

let issuer: TestIssuer;

beforeAll(async () => {
  issuer = await startTestIssuer();
});
afterAll(() => issuer.close());

const lastRequestLine = (server: TestServer) => server.logs.filter((line) => line['msg'] === 'request' || line['level'] === 40).at(-1);

/** Whether a peer's x-authgear-* headers were believed: the resolver's user, or 400. */
async function asPeer(url: string, localAddress: string) {
  const response = await sendGraphQL(url, ME, { localAddress, headers: RESOLVED });
  return response.status === 200 ? (response.body.data?.['me'] as { id: string }).id : response.status;
}

describe('a CIDR range', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startServer({ env: { AUTHGEAR_ENDPOINT: issuer.url, TRUSTED_PROXIES: '127.0.0.0/30' } });
  });
  afterAll(() => server.stop());

  it('TRUSTED_PROXIES=127.0.0.0/30 trusts 127.0.0.1-3 and no other peer', async () => {
    expect(await asPeer(server.url, '127.0.0.1')).toBe('cookie-user');
    expect(await asPeer(server.url, '127.0.0.3')).toBe('cookie-user');
    expect(await asPeer(server.url, '127.0.0.4')).toBe(400);
    expect(await asPeer(server.url, '127.0.0.9')).toBe(400);
  });

  it('a trusted hop inside the range is skipped in X-Forwarded-For; the first hop outside it is the client', async () => {
    await sendGraphQL(server.url, '{ serverInfo { name } }', { localAddress: '127.0.0.2', headers: { 'x-forwarded-for': '198.51.100.7, 127.0.0.3' } });
    expect(lastRequestLine(server)).toMatchObject({ clientAddress: '198.51.100.7' });
  });
});

describe.skipIf(!HAS_IPV6_LOOPBACK)('a dual-stack listener (HOST=::)', () => {
  let server: TestServer;
  let port: number;
  beforeAll(async () => {
    server = await startServer({ env: { AUTHGEAR_ENDPOINT: issuer.url, HOST: '::', TRUSTED_PROXIES: '127.0.0.1,::1/128' } });
    port = Number(new URL(server.origin).port);
  });
  afterAll(() => server.stop());

  it('an IPv4 proxy arriving as ::ffff:127.0.0.1 is trusted, and logged as 127.0.0.1', async () => {
    expect(await asPeer(`http://127.0.0.1:${port}/graphql`, '127.0.0.1')).toBe('cookie-user');
    expect(lastRequestLine(server)).toMatchObject({ clientAddress: '127.0.0.1', viewerId: 'cookie-user' });
  });

  it('an IPv6 CIDR (::1/128) trusts ::1', async () => {
    expect(await asPeer(`http://[::1]:${port}/graphql`, '::1')).toBe('cookie-user');
  });

  it('an IPv4 peer not listed, arriving as ::ffff:127.0.0.2 -> 400, logged as 127.0.0.2', async () => {
    expect(await asPeer(`http://127.0.0.1:${port}/graphql`, '127.0.0.2')).toBe(400);
    expect(lastRequestLine(server)).toMatchObject({ level: 40, clientAddress: '127.0.0.2', authReason: 'untrusted_forwarded_headers' });
  });
});

describe('TRUSTED_PROXIES unset', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startServer({ env: { AUTHGEAR_ENDPOINT: issuer.url } });
  });
  afterAll(() => server.stop());

  it('x-authgear-* headers from loopback -> 400 BAD_REQUEST and a warning naming TRUSTED_PROXIES', async () => {
    const response = await sendGraphQL(server.url, ME, { headers: RESOLVED });
    expect(response.status).toBe(400);
    expect(response.body.errors?.[0]).toMatchObject({ message: 'x-authgear-* headers are accepted only from TRUSTED_PROXIES.', extensions: { code: 'BAD_REQUEST' } });
    expect(lastRequestLine(server)).toMatchObject({
      level: 40,
      clientAddress: '127.0.0.1',
      authReason: 'untrusted_forwarded_headers',
      msg: 'request: x-authgear-* headers refused (check the proxy and TRUSTED_PROXIES)',
    });
  });

  it('X-Forwarded-For is ignored: the peer is the client', async () => {
    await send(server.url, { method: 'POST', headers: { 'content-type': 'application/json', 'x-forwarded-for': '198.51.100.7' }, body: '{"query":"{ serverInfo { name } }"}' });
    expect(lastRequestLine(server)).toMatchObject({ clientAddress: '127.0.0.1' });
  });
});
