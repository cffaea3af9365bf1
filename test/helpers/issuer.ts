import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { DevIssuer, DISCOVERY_PATH, generateSigningKey, JWKS_PATH, USERINFO_PATH, type MintOptions, type SigningKey } from '../../src/auth/dev-issuer.js';
import { DevResolver } from '../../src/auth/dev-resolver.js';

export type IssuerMode = 'up' | 'down' | 'hang' | 'garbage';
/**
 * The UserInfo endpoint alone: 'down' resets connections, 'hang' never
 * answers, '503' and '401' answer that status, 'other-sub' answers 200
 * about another user.
 */
export type UserInfoMode = 'up' | 'down' | 'hang' | '503' | '401' | 'other-sub';

/**
 * A stand-in for Authgear on an ephemeral loopback port: the dev issuer's own
 * code behind switches that rotate keys and simulate outages.
 */
export type TestIssuer = {
  readonly url: string;
  readonly issuer: DevIssuer;
  /** Its /_resolver/resolve, as Authgear's: it can revoke sessions and disable users. */
  readonly resolver: DevResolver;
  /** 'down' resets connections, 'hang' never answers, 'garbage' answers 200 with non-JSON. */
  mode: IssuerMode;
  /** Overrides the discovery document's `issuer` (to test a mismatch). */
  announcedIssuer: string | null;
  /** Switches UserInfo while discovery and the keys stay up. */
  userinfo: UserInfoMode;
  /** Milliseconds UserInfo waits before answering, so that operations overlap. */
  userinfoDelayMs: number;
  /** Requests received, UserInfo ones counted whatever the mode. */
  readonly hits: { discovery: number; jwks: number; userinfo: number };
  mint(options?: Partial<MintOptions>): Promise<string>;
  close(): Promise<void>;
};

let sharedKey: Promise<SigningKey> | null = null;
/** RSA key generation takes a while; one key per test file is enough. */
export function testSigningKey(): Promise<SigningKey> {
  sharedKey ??= generateSigningKey();
  return sharedKey;
}

export async function startTestIssuer(options: { key?: SigningKey } = {}): Promise<TestIssuer> {
  const sockets = new Set<Socket>();
  const hits = { discovery: 0, jwks: 0, userinfo: 0 };
  let devIssuer: DevIssuer | null = null;
  let devResolver: DevResolver | null = null;

  const handler = (req: IncomingMessage, res: ServerResponse) => {
    const path = req.url ?? '/';
    if (path === DISCOVERY_PATH) hits.discovery++;
    if (path === JWKS_PATH) hits.jwks++;
    if (path === USERINFO_PATH) {
      hits.userinfo++;
      if (state.userinfoDelayMs > 0) {
        setTimeout(() => answerUserInfo(req, res), state.userinfoDelayMs);
        return;
      }
      answerUserInfo(req, res);
      return;
    }
    answer(req, res, path);
  };
  const answerUserInfo = (req: IncomingMessage, res: ServerResponse) => {
    switch (state.userinfo) {
      case 'down':
        req.socket.destroy();
        return;
      case 'hang':
        return;
      case 'other-sub':
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ sub: 'someone-else', email: 'someone-else@example.com' }));
        return;
      case '503':
      case '401':
        res.writeHead(Number(state.userinfo), state.userinfo === '401' ? { 'www-authenticate': 'Bearer error="invalid_token"' } : {});
        res.end();
        return;
      case 'up':
        answer(req, res, USERINFO_PATH);
    }
  };
  const answer = (req: IncomingMessage, res: ServerResponse, path: string) => {
    switch (state.mode) {
      case 'down':
        req.socket.destroy();
        return;
      case 'hang':
        return;
      case 'garbage':
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end('<html>not json</html>');
        return;
      case 'up':
        if (path === DISCOVERY_PATH && state.announcedIssuer !== null) {
          res.writeHead(200, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ ...devIssuer?.discoveryDocument(), issuer: state.announcedIssuer }));
          return;
        }
        void devIssuer?.handle(req, res, path).then(async (handled) => {
          if (handled || (await devResolver?.handle(req, res, path, true))) return;
          res.writeHead(404);
          res.end();
        });
    }
  };
  const server = createServer(handler);
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  devIssuer = new DevIssuer(url, [options.key ?? (await testSigningKey())]);
  const issuer = devIssuer;
  devResolver = new DevResolver(issuer);

  const state: TestIssuer = {
    url,
    issuer,
    resolver: devResolver,
    mode: 'up',
    announcedIssuer: null,
    userinfo: 'up',
    userinfoDelayMs: 0,
    hits,
    mint: (mintOptions = {}) => issuer.mint({ sub: 'user-1', ...mintOptions }),
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  return state;
}
