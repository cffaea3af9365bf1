import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../src/db/database.js';
import { codes, execute, show } from './helpers/graphql.js';
import { scratchDatabase, TEST_DATABASE_URL, type ScratchDatabase } from './helpers/databases.js';
import { startTestIssuer, type TestIssuer } from './helpers/issuer.js';
import { startReplicas, stopReplicas } from './helpers/process.js';
import { startServer } from './helpers/server.js';
import { startTcpProxy } from './helpers/tcp-proxy.js';

// RATE_LIMIT_STORE=postgres (DESIGN 12): replicas share one budget through
// the PostgreSQL server; when it fails, each keeps limiting in memory.


describe.skipIf(TEST_DATABASE_URL === undefined)('RATE_LIMIT_STORE=postgres (needs TEST_DATABASE_URL)', () => {
  let issuer: TestIssuer;
  let scratch: ScratchDatabase;

  beforeAll(async () => {
    issuer = await startTestIssuer();
    scratch = await scratchDatabase('postgres');
  });
  afterAll(async () => {
    await scratch?.drop();
    await issuer?.close();
  });

  it('two server processes on one database share one budget and one refused-credential count', async () => {
    const replicas = await startReplicas(2, {
      AUTHGEAR_ENDPOINT: issuer.url,
      DATABASE_URL: scratch.url ?? '',
      RATE_LIMIT_STORE: 'postgres',
      RATE_LIMIT_POINTS: '5',
      AUTH_FAILURE_LIMIT: '4',
    });
    try {
      const [a, b] = replicas.map((replica) => replica.url) as [string, string];

      const token = await issuer.mint({ sub: 'replicated-spender' });
      const remaining: string[] = [];
      for (const url of [a, a, a, b, b]) {
        const response = await execute(url, '{ me { id } }', { token });
        expect(response.status, show(response)).toBe(200);
        remaining.push(response.headers.get('ratelimit') ?? '');
      }
      expect(remaining.map((header) => /r=(\d+)/.exec(header)?.[1])).toEqual(['4', '3', '2', '1', '0']);
      for (const url of [a, b]) {
        const refused = await execute(url, '{ me { id } }', { token });
        expect(refused.status, show(refused)).toBe(429);
        expect(codes(refused)).toEqual(['RATE_LIMITED']);
      }

      const forged = `${token.slice(0, -6)}AAAAAA`;
      for (const url of [a, a, b, b]) expect((await execute(url, '{ me { id } }', { token: forged })).status).toBe(401);
      const cutOff = await execute(b, '{ serverInfo { name } }');
      expect(cutOff.status, show(cutOff)).toBe(429);
      expect(cutOff.body.errors?.[0]?.extensions).toMatchObject({ code: 'RATE_LIMITED', policy: 'auth-failures' });
    } finally {
      stopReplicas(replicas);
    }
  }, 60_000);

  it('the store unreachable -> still served and limited in memory, logged once; shared again when it answers', async () => {
    const direct = new URL(scratch.url ?? '');
    const proxy = await startTcpProxy({ host: direct.hostname, port: Number(direct.port) });
    const throughProxy = new URL(direct.href);
    throughProxy.port = String(proxy.port);
    const database: Database = await scratch.open();
    const server = await startServer({
      // Only the limits go through the proxy: the notes keep their own connection.
      env: { AUTHGEAR_ENDPOINT: issuer.url, DATABASE_URL: throughProxy.href, RATE_LIMIT_STORE: 'postgres', RATE_LIMIT_POINTS: '3' },
      deps: { database },
    });
    try {
      const token = await issuer.mint({ sub: 'through-an-outage' });
      const ask = () => execute(server.url, '{ rateLimit { remaining } }', { token });
      expect((await ask()).body.data).toEqual({ rateLimit: { remaining: 2 } });

      await proxy.cut();
      const during = [await ask(), await ask(), await ask(), await ask()];
      expect(during.map((response) => response.status)).toEqual([200, 200, 200, 429]);
      expect(during[0]?.body.data).toEqual({ rateLimit: { remaining: 2 } });
      const outageLines = server.logs.filter((line) => String(line['msg']).startsWith('rate-limit store unavailable'));
      expect(outageLines).toHaveLength(1);
      expect(server.logs.some((line) => line['level'] === 50 && line['msg'] === 'request failed')).toBe(false);

      await proxy.open();
      // While down, the store is tried again once a second, not on every request.
      await new Promise((resolve) => setTimeout(resolve, 1100));
      // The store's own count again: one spent before the outage, one now.
      const after = await ask();
      expect(after.body.data, show(after)).toEqual({ rateLimit: { remaining: 1 } });
      expect(server.logs.filter((line) => String(line['msg']).startsWith('rate-limit store answers again'))).toHaveLength(1);
    } finally {
      await server.stop();
      await database.close();
      await proxy.close();
    }
  });
});
