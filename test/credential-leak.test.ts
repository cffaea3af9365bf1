import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sendRaw } from './helpers/http.js';
import { startTestIssuer, type TestIssuer } from './helpers/issuer.js';
import { startServer, type TestServer } from './helpers/server.js';

// No response body, header or log line may carry any part of a credential,
// whatever shape the client sends it in (DESIGN 12). "Any part" is checked
// as any 16-character slice of the token.

const SLICE = 16;

function slices(text: string): Set<string> {
  const out = new Set<string>();
  for (let i = 0; i + SLICE <= text.length; i++) out.add(text.slice(i, i + SLICE));
  return out;
}

function leakIn(text: string, secret: Set<string>): string | null {
  for (let i = 0; i + SLICE <= text.length; i++) {
    const slice = text.slice(i, i + SLICE);
    if (secret.has(slice)) return slice;
  }
  return null;
}

function shapes(token: string): [string, [string, string][]][] {
  const [header = '', payload = '', signature = ''] = token.split('.');
  const auth = (value: string): [string, string][] => [['authorization', value]];
  return [
    ['no scheme', auth(token)],
    ['no scheme, lower-case header name repeated', [['authorization', token], ['Authorization', token]]],
    ['scheme Token', auth(`Token ${token}`)],
    ['scheme Basic', auth(`Basic ${token}`)],
    ['scheme JWT', auth(`JWT ${token}`)],
    ['scheme with a colon', auth(`Bearer: ${token}`)],
    ['scheme glued with a comma', auth(`Bearer,${token}`)],
    ['scheme glued with =', auth(`Bearer=${token}`)],
    ['scheme after the token', auth(`${token} Bearer`)],
    ['lower case', auth(`bearer ${token}x`)],
    ['upper case', auth(`BEARER ${token}x`)],
    ['two spaces', auth(`Bearer  ${token}x`)],
    ['a tab', auth(`Bearer\t${token}`)],
    ['leading space', auth(` Bearer ${token}x`)],
    ['trailing comma', auth(`Bearer ${token},`)],
    ['quoted', auth(`Bearer "${token}"`)],
    ['an extra part', auth(`Bearer ${token} extra`)],
    ['the token twice', auth(`Bearer ${token} ${token}`)],
    ['four segments', auth(`Bearer ${token}.${signature}`)],
    ['segments split by spaces', auth(`Bearer ${header} ${payload} ${signature}`)],
    ['segments swapped', auth(`Bearer ${payload}.${header}.${signature}`)],
    ['bad signature', auth(`Bearer ${header}.${payload}.${signature.slice(0, -4)}AAAA`)],
    ['payload only', auth(`Bearer ${payload}`)],
    ['two Authorization headers', [['authorization', `Bearer ${token}`], ['authorization', `Bearer ${token}`]]],
    ['padded out past 8 KiB', auth(`Bearer ${token}${'A'.repeat(8 * 1024)}`)],
    ['in a cookie', [['cookie', `app_session=${token}; access_token=${token}`]]],
    ['in a cookie, with a broken header', [['cookie', `app_access_token=${token}`], ['authorization', token]]],
  ];
}

describe.each(['development', 'production'] as const)('NODE_ENV=%s: a credential is never echoed', (nodeEnv) => {
  let issuer: TestIssuer;
  let server: TestServer;
  let token: string;
  let secret: Set<string>;

  beforeAll(async () => {
    issuer = await startTestIssuer();
    server = await startServer({
      env: { NODE_ENV: nodeEnv, AUTHGEAR_ENDPOINT: issuer.url, DATABASE_URL: 'postgres://unused.invalid/app', LOG_LEVEL: 'trace' },
    });
    token = await issuer.mint({ sub: 'leak-victim', verified: true });
    secret = slices(token);
  });
  afterAll(async () => {
    await server.stop();
    await issuer.close();
  });

  it('malformed shapes of a real token: no 16-character slice of it in any body, header or log line', async () => {
    for (const [label, headers] of shapes(token)) {
      const response = await sendRaw(server.origin, headers);
      expect(response.status, label).toBeLessThan(500);
      expect(leakIn(response.body, secret), `${label}: body ${response.body}`).toBeNull();
      expect(leakIn(response.headers, secret), `${label}: headers ${response.headers}`).toBeNull();
    }
    const logs = server.rawLogs();
    expect(server.logs.length).toBeGreaterThan(0);
    expect(leakIn(logs, secret), 'a log line').toBeNull();
  });

  it('a token sent without "Bearer " -> 401 invalid_request that says how to send it', async () => {
    const response = await sendRaw(server.origin, [['authorization', token]]);
    expect(response.status).toBe(401);
    expect(response.headers).toMatch(/Bearer error="invalid_request", error_description="The Authorization scheme must be Bearer/);
    expect(JSON.parse(response.body)).toMatchObject({ errors: [{ extensions: { code: 'UNAUTHENTICATED' } }] });
  });
});
