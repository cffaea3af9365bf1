import { createHash, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { DevIssuer, type MintOptions } from '../../src/auth/dev-issuer.js';
import { testSigningKey } from './issuer.js';

/**
 * A stand-in for an Authgear project, for a browser signing in with
 * Authgear's web SDK: discovery, JWKS, the authorization-code flow with PKCE
 * (the user is signed in at once, as `user`), refresh-token grants,
 * UserInfo, revocation and end-session. Its access tokens are the dev
 * issuer's, shaped like Authgear's, so the API verifies them as it would
 * real ones. CORS answers the one origin the web app runs on.
 */

export type OidcProvider = {
  url: string;
  /** Token requests by grant type, e.g. { authorization_code: 1, refresh_token: 3 }. */
  grants: Record<string, number>;
  close(): Promise<void>;
};

type Grant = { redirectUri: string; challenge: string };

export async function startOidcProvider(options: { clientId: string; appOrigin: string; user: MintOptions }): Promise<OidcProvider> {
  const codes = new Map<string, Grant>();
  const refreshTokens = new Set<string>();
  const grants: Record<string, number> = {};
  let issuer: DevIssuer | null = null;

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      res.writeHead(500).end(String(error));
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://provider');
    const cors = {
      'access-control-allow-origin': options.appOrigin,
      'access-control-allow-credentials': 'true',
      vary: 'Origin',
    };
    const json = (status: number, body: unknown): void => {
      res.writeHead(status, { ...cors, 'content-type': 'application/json' }).end(JSON.stringify(body));
    };
    const dev = issuer as DevIssuer;
    if (req.method === 'OPTIONS') {
      res.writeHead(204, { ...cors, 'access-control-allow-methods': 'GET, POST', 'access-control-allow-headers': req.headers['access-control-request-headers'] ?? '' }).end();
      return;
    }
    switch (url.pathname) {
      case '/.well-known/openid-configuration':
        return json(200, {
          ...dev.discoveryDocument(),
          authorization_endpoint: `${dev.issuer}/oauth2/authorize`,
          token_endpoint: `${dev.issuer}/oauth2/token`,
          userinfo_endpoint: `${dev.issuer}/oauth2/userinfo`,
          revocation_endpoint: `${dev.issuer}/oauth2/revoke`,
          end_session_endpoint: `${dev.issuer}/oauth2/end_session`,
        });
      case '/oauth2/jwks':
        return json(200, dev.jwks());
      case '/oauth2/authorize': {
        const redirectUri = url.searchParams.get('redirect_uri') ?? '';
        const challenge = url.searchParams.get('code_challenge') ?? '';
        if (url.searchParams.get('client_id') !== options.clientId || !redirectUri.startsWith(`${options.appOrigin}/`) || challenge === '') {
          return json(400, { error: 'invalid_request', error_description: 'unknown client, redirect URI or no PKCE challenge' });
        }
        const code = randomUUID();
        codes.set(code, { redirectUri, challenge });
        const back = new URL(redirectUri);
        back.searchParams.set('code', code);
        back.searchParams.set('state', url.searchParams.get('state') ?? '');
        res.writeHead(302, { location: back.href }).end();
        return;
      }
      case '/oauth2/token': {
        const form = new URLSearchParams(await readText(req));
        const grantType = form.get('grant_type') ?? '';
        grants[grantType] = (grants[grantType] ?? 0) + 1;
        let refreshToken = form.get('refresh_token') ?? '';
        if (grantType === 'authorization_code') {
          const grant = codes.get(form.get('code') ?? '');
          codes.delete(form.get('code') ?? '');
          const verifier = createHash('sha256')
            .update(form.get('code_verifier') ?? '')
            .digest('base64url');
          if (grant === undefined || grant.redirectUri !== form.get('redirect_uri') || grant.challenge !== verifier) return json(400, { error: 'invalid_grant' });
          refreshToken = randomUUID();
          refreshTokens.add(refreshToken);
        } else if (grantType !== 'refresh_token' || !refreshTokens.has(refreshToken)) {
          return json(400, { error: 'invalid_grant' });
        }
        const ttlSeconds = options.user.ttlSeconds ?? 1800;
        const accessToken = await dev.mint({ ...options.user, clientId: options.clientId });
        return json(200, { token_type: 'Bearer', access_token: accessToken, expires_in: ttlSeconds, refresh_token: refreshToken, scope: 'openid offline_access' });
      }
      case '/oauth2/userinfo':
        return json(200, { sub: options.user.sub });
      case '/oauth2/revoke':
        refreshTokens.delete(new URLSearchParams(await readText(req)).get('token') ?? '');
        return json(200, {});
      case '/oauth2/end_session':
        res.writeHead(302, { location: url.searchParams.get('post_logout_redirect_uri') ?? options.appOrigin }).end();
        return;
      default:
        return json(404, { error: 'not_found' });
    }
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  issuer = new DevIssuer(url, [await testSigningKey()]);
  return {
    url,
    grants,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

async function readText(req: IncomingMessage): Promise<string> {
  let text = '';
  for await (const chunk of req) text += (chunk as Buffer).toString('utf8');
  return text;
}
