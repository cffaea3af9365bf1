import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { createRefusedOriginLog } from '../src/http/cors.js';
import { codes, execute, show } from './helpers/graphql.js';
import { startTestIssuer, type TestIssuer } from './helpers/issuer.js';
import { startServer, type TestServer } from './helpers/server.js';
import { openRaw, wsUrl } from './helpers/ws.js';

let issuer: TestIssuer;
let server: TestServer;

beforeAll(async () => {
  issuer = await startTestIssuer();
  server = await startServer({ env: { AUTHGEAR_ENDPOINT: issuer.url, CORS_ORIGINS: 'https://app.example.com', BODY_LIMIT_BYTES: '2048' } });
});
afterAll(async () => {
  await server.stop();
  await issuer.close();
});

describe('health endpoints', () => {
  it('GET /healthz -> 200 while the process is up', async () => {
    const response = await fetch(`${server.origin}/healthz`);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ status: 'ok' });
  });

  it('GET /readyz -> 200 once the database answers and the issuer keys were fetched', async () => {
    const response = await fetch(`${server.origin}/readyz`);
    expect(await response.json()).toEqual({ ready: true, checks: { database: 'ok', authProvider: 'ok' } });
    expect(response.status).toBe(200);
  });

  it('an unknown path -> 404 NOT_FOUND', async () => {
    const response = await fetch(`${server.origin}/nope`);
    expect(response.status).toBe(404);
    expect(await response.json()).toMatchObject({ errors: [{ extensions: { code: 'NOT_FOUND' } }] });
  });
});

describe('/graphql over HTTP', () => {
  it('every response carries an x-request-id, echoing a sane one from the client', async () => {
    const own = await execute(server.url, '{ serverInfo { name } }', { headers: { 'x-request-id': 'lb-123.abc' } });
    expect(own.headers.get('x-request-id')).toBe('lb-123.abc');
    const invented = await execute(server.url, '{ serverInfo { name } }', { headers: { 'x-request-id': 'bad id with spaces' } });
    expect(invented.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('GET queries work with a CSRF-safe header, and are refused without one', async () => {
    const query = encodeURIComponent('{ serverInfo { name } }');
    const safe = await fetch(`${server.url}?query=${query}`, { headers: { 'apollo-require-preflight': 'true' } });
    expect(safe.status).toBe(200);
    const simple = await fetch(`${server.url}?query=${query}`);
    expect(simple.status).toBe(400);
    expect(await simple.text()).toMatch(/CSRF/);
  });

  it('mutations over GET -> 405', async () => {
    const query = encodeURIComponent('mutation { deleteNote(id: "x") }');
    const response = await fetch(`${server.url}?query=${query}`, { headers: { 'apollo-require-preflight': 'true' } });
    expect(response.status).toBe(405);
  });

  it('PUT /graphql -> 405 with Allow', async () => {
    const response = await fetch(server.url, { method: 'PUT', body: '{}' });
    expect(response.status).toBe(405);
    expect(response.headers.get('allow')).toBe('GET, POST, OPTIONS');
  });

  it('a body over BODY_LIMIT_BYTES -> 413 PAYLOAD_TOO_LARGE', async () => {
    const response = await fetch(server.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: `{ serverInfo { name } } # ${'x'.repeat(4096)}` }),
    });
    expect(response.status).toBe(413);
    expect(await response.json()).toMatchObject({ errors: [{ extensions: { code: 'PAYLOAD_TOO_LARGE' } }] });
  });

  it('a body over the limit without Content-Length (chunked) -> 413 as well', async () => {
    const chunks = new ReadableStream<Uint8Array>({
      start(controller) {
        for (let i = 0; i < 8; i++) controller.enqueue(new TextEncoder().encode('x'.repeat(1024)));
        controller.close();
      },
    });
    const response = await fetch(server.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: chunks,
      duplex: 'half',
    });
    expect(response.status).toBe(413);
  });

  it('invalid JSON -> 400 BAD_REQUEST', async () => {
    const response = await fetch(server.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"query": ' });
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ errors: [{ extensions: { code: 'BAD_REQUEST' } }] });
  });

  it('a non-UTF-8 charset -> 415', async () => {
    const response = await fetch(server.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json; charset=latin1' },
      body: '{"query":"{ serverInfo { name } }"}',
    });
    expect(response.status).toBe(415);
  });

  it('a text/plain POST (a CSRF-able simple request) is refused before execution', async () => {
    const response = await fetch(server.url, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: '{"query":"{ serverInfo { name } }"}' });
    expect(response.status).toBe(400);
  });

  it('a syntax error -> 400 GRAPHQL_PARSE_FAILED; an unknown field -> 400 GRAPHQL_VALIDATION_FAILED', async () => {
    const syntax = await execute(server.url, '{ serverInfo { name }');
    expect([syntax.status, codes(syntax)]).toEqual([400, ['GRAPHQL_PARSE_FAILED']]);
    const unknown = await execute(server.url, '{ secrets }');
    expect([unknown.status, codes(unknown)]).toEqual([400, ['GRAPHQL_VALIDATION_FAILED']]);
  });

  it('batched requests are off', async () => {
    const response = await fetch(server.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify([{ query: '{ serverInfo { name } }' }, { query: '{ serverInfo { name } }' }]),
    });
    expect(response.status).toBe(400);
  });
});

describe('clients that hang up', () => {
  it('a client leaving mid-body is not logged as a server error, and the server keeps serving', async () => {
    const { port } = new URL(server.url);
    const socket = connect(Number(port), '127.0.0.1');
    await new Promise((resolve) => socket.once('connect', resolve));
    socket.write('POST /graphql HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 500\r\n\r\n{"query":');
    await new Promise((resolve) => setTimeout(resolve, 50));
    socket.destroy();
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(server.logs.filter((line) => line['msg'] === 'request failed')).toEqual([]);
    expect((await execute(server.url, '{ serverInfo { name } }')).status).toBe(200);
  });
});

describe('CORS', () => {
  it('an allowed origin gets Access-Control-Allow-Origin and may send credentials (cookie sessions)', async () => {
    const response = await execute(server.url, '{ serverInfo { name } }', { headers: { origin: 'https://app.example.com' } });
    expect(response.headers.get('access-control-allow-origin')).toBe('https://app.example.com');
    expect(response.headers.get('access-control-allow-credentials')).toBe('true');
    expect(response.headers.get('vary')).toMatch(/Origin/);
  });

  it('another origin gets no CORS headers', async () => {
    const response = await execute(server.url, '{ serverInfo { name } }', { headers: { origin: 'https://evil.example' } });
    expect(response.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('a preflight from an allowed origin allows the Authorization header', async () => {
    const response = await fetch(server.url, {
      method: 'OPTIONS',
      headers: {
        origin: 'https://app.example.com',
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'authorization, content-type',
      },
    });
    expect(response.status).toBe(204);
    expect(response.headers.get('access-control-allow-origin')).toBe('https://app.example.com');
    expect(response.headers.get('access-control-allow-headers')).toBe('authorization, content-type');
    expect(response.headers.get('access-control-allow-methods')).toBe('GET, POST, OPTIONS');
  });

  it('a preflight from another origin gets no allowance', async () => {
    const response = await fetch(server.url, {
      method: 'OPTIONS',
      headers: { origin: 'https://evil.example', 'access-control-request-method': 'POST' },
    });
    expect(response.status).toBe(204);
    expect(response.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('a refused origin is logged once, as a warning naming CORS_ORIGINS, over HTTP and WebSocket alike; allowed and same-origin ones are not', async () => {
    const origin = 'https://refused-once.example';
    const mine = [origin, 'https://refused-twice.example', 'https://app.example.com', server.origin];
    const refusals = () => server.logs.filter((line) => String(line['msg']).startsWith('CORS: refused') && mine.includes(String(line['origin'])));
    await execute(server.url, '{ serverInfo { name } }', { headers: { origin } });
    await fetch(server.url, { method: 'OPTIONS', headers: { origin, 'access-control-request-method': 'POST' } });
    await expect(openRaw(wsUrl(server.url), { headers: { origin } })).rejects.toMatchObject({ status: 403 });
    await execute(server.url, '{ serverInfo { name } }', { headers: { origin: 'https://app.example.com' } });
    await execute(server.url, '{ serverInfo { name } }', { headers: { origin: server.origin } });
    expect(refusals().map((line) => [line['level'], line['origin']])).toEqual([[40, origin]]);
    expect(refusals()[0]?.['msg']).toMatch(/add it to CORS_ORIGINS/);

    await expect(openRaw(wsUrl(server.url), { headers: { origin: 'https://refused-twice.example' } })).rejects.toMatchObject({ status: 403 });
    expect(refusals().map((line) => line['origin'])).toEqual([origin, 'https://refused-twice.example']);
  });

  it('the refused-origin log is bounded: past its limit one line says so, then nothing more', () => {
    const lines: string[] = [];
    const log = createRefusedOriginLog(pino({ level: 'warn' }, { write: (line: string) => lines.push(line) }), 3);
    for (let round = 0; round < 2; round++) for (let i = 0; i < 10; i++) log(`https://made-up-${i}.example`);
    const messages = lines.map((line) => (JSON.parse(line) as { msg: string }).msg);
    expect(messages).toHaveLength(4);
    expect(messages[3]).toBe('CORS: more than 3 different origins refused; no longer logging each one');
  });
});

describe('graceful shutdown', () => {
  it('stop() lets an in-flight request finish, then refuses new connections', async () => {
    const api = await startServer({ env: { AUTHGEAR_ENDPOINT: issuer.url } });
    const { port } = new URL(api.url);
    const body = JSON.stringify({ query: '{ serverInfo { name } }' });
    const socket = connect(Number(port), '127.0.0.1');
    await new Promise((resolve) => socket.once('connect', resolve));
    let raw = '';
    socket.on('data', (chunk: Buffer) => (raw += chunk.toString()));
    const closed = new Promise((resolve) => socket.once('close', resolve));
    socket.write(`POST /graphql HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n`);
    socket.write(body.slice(0, 10));
    await new Promise((resolve) => setTimeout(resolve, 50));

    let stopped = false;
    const stopping = api.stop().then(() => (stopped = true));
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(stopped, 'stop() waits for the request in flight').toBe(false);
    await expect(fetch(`${api.origin}/healthz`)).rejects.toThrow();

    socket.write(body.slice(10));
    await closed;
    await stopping;
    expect(raw).toMatch(/^HTTP\/1\.1 200 OK/);
    expect(raw).toContain('"serverInfo":{"name":"authgear-graphql-starter"}');
  });
});

describe('logs', () => {
  it('one JSON line per request with method, operation, status, duration, viewer and request id', async () => {
    const token = await issuer.mint({ sub: 'logged-user' });
    const response = await execute(server.url, 'query WhoAmI { me { id } }', { token, operationName: 'WhoAmI' });
    expect(response.status, show(response)).toBe(200);
    const requestId = response.headers.get('x-request-id');
    await new Promise((resolve) => setTimeout(resolve, 20));
    const line = server.logs.find((entry) => entry['requestId'] === requestId);
    expect(line).toMatchObject({
      msg: 'request',
      method: 'POST',
      path: '/graphql',
      status: 200,
      operationName: 'WhoAmI',
      viewerId: 'logged-user',
    });
    expect(typeof line?.['durationMs']).toBe('number');
  });
});
