import { describe, expect, it } from 'vitest';
import { execute } from './helpers/graphql.js';
import { freePort, runEntry } from './helpers/process.js';

// Logs a person reads (LOG_FORMAT=pretty, the default at a development
// terminal) and JSON lines for collectors: the same facts, never a credential.


describe('request logs', () => {
  it('LOG_FORMAT=pretty -> one readable line per request ("POST /graphql 401 ... ms"), with the refusal reason and client address, not the token', async () => {
    const port = await freePort();
    const server = runEntry('src/main.ts', [], {
      NODE_ENV: 'development',
      HOST: '127.0.0.1',
      PORT: String(port),
      LOG_FORMAT: 'pretty',
      DEV_ISSUER_DIR: `${process.env['TMPDIR'] ?? '/tmp'}/starter-logs-${port}`,
    });
    try {
      await server.waitFor(/server started/, 30_000);
      const token = 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJlLW9mLWEtZm9yZ2VyeQ';
      const url = `http://127.0.0.1:${port}/graphql`;
      expect((await execute(url, '{ me { id } }', { headers: { authorization: token } })).status).toBe(401);
      const line = (await server.waitFor(/^.*POST \/graphql 401 [\d.]+ ms.*$/m, 10_000))[0];
      expect(line).toMatch(/INFO/);
      expect(line).toMatch(/"?authReason"?: ?"malformed_header"/);
      expect(line).toMatch(/"?clientAddress"?: ?"127\.0\.0\.1"/);
      expect(line).not.toMatch(/^\{"level"/);
      // Its header is any RS256 token's: look for the rest of it.
      expect(server.stdout()).not.toContain(token.slice(21, 37));
      expect(server.stdout()).not.toContain(token.slice(-16));
    } finally {
      server.child.kill('SIGTERM');
      await server.exited;
    }
  });
});
