import { randomUUID } from 'node:crypto';
import { link, mkdir, readFile, unlink, writeFile } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { join } from 'node:path';
import { createLocalJWKSet, exportJWK, generateKeyPair, importJWK, jwtVerify, SignJWT, type CryptoKey, type JWK, type JWTPayload } from 'jose';
import { isLoopbackHost } from '../loopback.js';
import { AuthgearClaim } from './viewer.js';

/**
 * A development stand-in for Authgear: it signs access tokens shaped like
 * Authgear's (shared/AUTHGEAR.md) and serves the discovery document and JWKS
 * that the verifier fetches over HTTP, exactly as it would from Authgear.
 * Never used when NODE_ENV=production (config refuses to start without
 * AUTHGEAR_ENDPOINT there).
 */

export type SigningKey = Readonly<{ kid: string; privateKey: CryptoKey; publicJwk: JWK }>;

export const DISCOVERY_PATH = '/.well-known/openid-configuration';
export const JWKS_PATH = '/oauth2/jwks';
export const USERINFO_PATH = '/oauth2/userinfo';
/**
 * Where a dev access token carries what the dev UserInfo endpoint answers
 * for its user (set by `npm run token -- --email ... --name ...`). Only that
 * endpoint reads it: the API takes profile claims from the token only under
 * their standard names, so the UserInfo path is the one exercised. Carried
 * in the token, it needs no running server to mint and survives restarts.
 */
export const DEV_USERINFO_CLAIM = 'urn:dev-issuer:userinfo';
export const DEV_CLIENT_ID = 'dev-client';
/** The API resource URI of machine-to-machine tokens when the dev issuer runs (AUTHGEAR_API_RESOURCE unset). */
export const DEV_API_RESOURCE = 'urn:dev-issuer:api';

async function generatePrivateJwk(): Promise<JWK> {
  const { privateKey } = await generateKeyPair('RS256', { extractable: true });
  return { ...(await exportJWK(privateKey)), kid: randomUUID() };
}

export async function generateSigningKey(): Promise<SigningKey> {
  return signingKeyFromJwk(await generatePrivateJwk());
}

async function signingKeyFromJwk(jwk: JWK): Promise<SigningKey> {
  const { kid, kty, n, e } = jwk;
  if (kid === undefined || kty !== 'RSA' || n === undefined || e === undefined) {
    throw new Error('The dev issuer key file does not hold an RSA private JWK with a kid');
  }
  const privateKey = (await importJWK({ ...jwk, alg: 'RS256' }, 'RS256')) as CryptoKey;
  return Object.freeze({ kid, privateKey, publicJwk: Object.freeze({ kty, n, e, kid, alg: 'RS256', use: 'sig' }) });
}

/**
 * The dev key is made once and kept in `dir` (git-ignored), so tokens minted
 * by `npm run token` stay valid across restarts of the server.
 */
export async function loadOrCreateSigningKey(dir: string): Promise<SigningKey> {
  const file = join(dir, 'signing-key.json');
  try {
    return await signingKeyFromJwk(JSON.parse(await readFile(file, 'utf8')) as JWK);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') {
      throw new Error(`Cannot read the dev issuer key ${file}: ${(error as Error).message}. Delete the file to make a new one.`, {
        cause: error,
      });
    }
  }
  const jwk = await generatePrivateJwk();
  await mkdir(dir, { recursive: true, mode: 0o700 });
  // Written aside, then linked into place: a concurrent reader never sees a half-written file.
  const draft = `${file}.${process.pid}.${randomUUID()}.tmp`;
  await writeFile(draft, JSON.stringify(jwk), { mode: 0o600 });
  try {
    await link(draft, file);
  } catch (error) {
    // Another process (the server or `npm run token`) created it first: use theirs.
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return loadOrCreateSigningKey(dir);
    throw error;
  } finally {
    await unlink(draft);
  }
  return signingKeyFromJwk(jwk);
}

/** The dev issuer lives on the server's own origin, reached over loopback. */
export function devIssuerUrl(host: string, port: number): string {
  const reachable = host === '0.0.0.0' || host === '::' || host === '' ? '127.0.0.1' : host;
  const hostname = reachable.includes(':') ? `[${reachable}]` : reachable;
  if (!isLoopbackHost(hostname)) {
    throw new Error(`The dev issuer needs a loopback or wildcard HOST, got ${host}; set AUTHGEAR_ENDPOINT instead`);
  }
  return `http://${hostname}:${port}`;
}

export type MintOptions = Readonly<{
  sub: string;
  roles?: readonly string[];
  verified?: boolean;
  anonymous?: boolean;
  /** Defaults to true for registered users and false for anonymous ones, as in Authgear. */
  canReauthenticate?: boolean;
  /** Seconds since the user last (re-)authenticated. */
  authAgeSeconds?: number;
  ttlSeconds?: number;
  clientId?: string;
  /** Standard OIDC claims (email, name, ...) that the dev UserInfo endpoint answers for this token. */
  userinfo?: Readonly<Record<string, string | boolean>>;
  /** Extra or replacing claims; `undefined` removes a claim. */
  claims?: Readonly<Record<string, unknown>>;
  /** Replacing header parameters (tests use it to forge bad tokens). */
  header?: Readonly<Record<string, unknown>>;
  /** Sign with this key instead of the issuer's current one. */
  key?: SigningKey;
  nowSeconds?: number;
}>;

export type ServiceMintOptions = Readonly<{
  /** The M2M application's client ID; `sub` becomes `client_id_<clientId>`, as Authgear does. */
  clientId: string;
  scopes: readonly string[];
  /** The API resource URI the token is requested for (its `aud`). */
  audience: string;
  ttlSeconds?: number;
  claims?: Readonly<Record<string, unknown>>;
  nowSeconds?: number;
}>;

/** Authgear's session cookie; the dev one holds a signed session instead of an opaque id. */
export const DEV_SESSION_COOKIE = 'app_session';
const SESSION_TYP = 'dev-session+jwt';

export type DevSession = Readonly<{ sessionId: string; cookie: string }>;

function userClaims(options: MintOptions, now: number): Record<string, unknown> {
  const anonymous = options.anonymous ?? false;
  return {
    sub: options.sub,
    auth_time: now - (options.authAgeSeconds ?? 0),
    amr: anonymous ? ['x_anonymous'] : ['pwd'],
    [AuthgearClaim.isVerified]: options.verified ?? false,
    [AuthgearClaim.isAnonymous]: anonymous,
    [AuthgearClaim.canReauthenticate]: options.canReauthenticate ?? !anonymous,
    [AuthgearClaim.roles]: [...(options.roles ?? [])],
  };
}

export class DevIssuer {
  #keys: SigningKey[];
  #localKeys: ReturnType<typeof createLocalJWKSet> | null = null;

  constructor(
    readonly issuer: string,
    keys: readonly SigningKey[],
  ) {
    if (keys.length === 0) throw new Error('DevIssuer needs at least one signing key');
    this.#keys = [...keys];
  }

  /** Like Authgear: sign with the first key, publish all of them. */
  get signingKey(): SigningKey {
    return this.#keys[0] as SigningKey;
  }

  rotate(key: SigningKey): void {
    this.#keys = [key, ...this.#keys.filter((k) => k.kid !== key.kid)];
    this.#localKeys = null;
  }

  retire(kid: string): void {
    if (this.#keys.length > 1) this.#keys = this.#keys.filter((k) => k.kid !== kid);
    this.#localKeys = null;
  }

  discoveryDocument(): Record<string, unknown> {
    return {
      issuer: this.issuer,
      jwks_uri: `${this.issuer}${JWKS_PATH}`,
      userinfo_endpoint: `${this.issuer}${USERINFO_PATH}`,
      response_types_supported: ['code'],
      subject_types_supported: ['public'],
      id_token_signing_alg_values_supported: ['RS256'],
    };
  }

  jwks(): { keys: JWK[] } {
    return { keys: this.#keys.map((k) => k.publicJwk) };
  }

  /** A user access token shaped like Authgear's. */
  async mint(options: MintOptions): Promise<string> {
    const now = options.nowSeconds ?? Math.floor(Date.now() / 1000);
    return this.#sign(
      {
        aud: [this.issuer],
        client_id: options.clientId ?? DEV_CLIENT_ID,
        ...userClaims(options, now),
        exp: now + (options.ttlSeconds ?? 1800),
        jti: randomUUID(),
        scope: 'openid offline_access',
        ...(options.userinfo === undefined ? {} : { [DEV_USERINFO_CLAIM]: { ...options.userinfo } }),
      },
      options,
      now,
      'at+jwt',
    );
  }

  /** A machine-to-machine (client credentials) token shaped like Authgear's. */
  async mintService(options: ServiceMintOptions): Promise<string> {
    const now = options.nowSeconds ?? Math.floor(Date.now() / 1000);
    return this.#sign(
      {
        aud: [options.audience],
        client_id: options.clientId,
        sub: `client_id_${options.clientId}`,
        scope: options.scopes.join(' '),
        exp: now + (options.ttlSeconds ?? 3600),
        jti: randomUUID(),
      },
      options,
      now,
      'at+jwt',
    );
  }

  /**
   * A dev session cookie value (the stand-in for Authgear's app_session):
   * a signed session that the dev resolver checks, and can revoke by id.
   */
  async mintSession(options: MintOptions): Promise<DevSession> {
    const now = options.nowSeconds ?? Math.floor(Date.now() / 1000);
    const sessionId = randomUUID();
    const cookie = await this.#sign(
      { sid: sessionId, ...userClaims(options, now), exp: now + (options.ttlSeconds ?? 24 * 3600) },
      options,
      now,
      SESSION_TYP,
    );
    return { sessionId, cookie };
  }

  async #sign(
    claims: Record<string, unknown>,
    options: Readonly<{ claims?: Readonly<Record<string, unknown>>; header?: Readonly<Record<string, unknown>>; key?: SigningKey }>,
    now: number,
    typ: string,
  ): Promise<string> {
    const all: Record<string, unknown> = { iss: this.issuer, iat: now, ...claims };
    for (const [name, value] of Object.entries(options.claims ?? {})) {
      if (value === undefined) delete all[name];
      else all[name] = value;
    }
    const key = options.key ?? this.signingKey;
    return new SignJWT(all).setProtectedHeader({ alg: 'RS256', typ, kid: key.kid, ...options.header }).sign(key.privateKey);
  }

  /**
   * Checks a user access token or a dev session cookie of this issuer the
   * way Authgear's resolver does: no clock leeway. Resolves to its claims,
   * or null when it is not valid.
   */
  async check(credential: string, kind: 'access-token' | 'session'): Promise<JWTPayload | null> {
    this.#localKeys ??= createLocalJWKSet(this.jwks());
    try {
      const { payload } = await jwtVerify(credential, this.#localKeys, {
        issuer: this.issuer,
        algorithms: ['RS256'],
        typ: kind === 'session' ? SESSION_TYP : 'at+jwt',
        ...(kind === 'access-token' ? { audience: this.issuer } : {}),
        requiredClaims: kind === 'session' ? ['sid', 'sub', 'exp'] : ['sub', 'exp'],
      });
      return payload;
    } catch {
      return null;
    }
  }

  /** Serves the discovery document, the JWKS and UserInfo; returns false for any other request. */
  async handle(req: IncomingMessage, res: ServerResponse, path: string): Promise<boolean> {
    if (path === USERINFO_PATH && (req.method === 'GET' || req.method === 'POST')) {
      await this.#userinfo(req, res);
      return true;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') return false;
    let body: unknown;
    if (path === DISCOVERY_PATH) body = this.discoveryDocument();
    else if (path === JWKS_PATH) body = this.jwks();
    else return false;
    res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' });
    res.end(req.method === 'HEAD' ? undefined : JSON.stringify(body));
    return true;
  }

  /**
   * OIDC Core 5.3 for this issuer's access tokens, checked as its resolver
   * checks them: the user's `sub` and the claims the token was minted with.
   */
  async #userinfo(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const token = /^Bearer +(\S+)$/i.exec(req.headers.authorization ?? '')?.[1];
    const claims = token === undefined ? null : await this.check(token, 'access-token');
    if (claims === null) {
      res.writeHead(401, { 'www-authenticate': token === undefined ? 'Bearer' : 'Bearer error="invalid_token"', 'cache-control': 'no-store' });
      res.end();
      return;
    }
    const minted = claims[DEV_USERINFO_CLAIM];
    res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' });
    res.end(JSON.stringify({ ...(typeof minted === 'object' && minted !== null ? minted : {}), sub: claims.sub }));
  }
}
