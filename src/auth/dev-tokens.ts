import type { IncomingMessage, ServerResponse } from 'node:http';
import { HttpError, readBody } from '../http/body.js';
import { readHeaders } from '../http/headers.js';
import { sendError, sendJson } from '../http/respond.js';
import type { DevIssuer, MintOptions } from './dev-issuer.js';

/**
 * A development sign-in for browser apps: POST /_dev/tokens with a persona,
 * as JSON, answers a user access token of the dev issuer, what a web app
 * would get from Authgear. It is what `npm run token` does, over HTTP, so a
 * front-end can sign in (and sign in again when its token expires) without
 * an Authgear project. Loopback clients only, like the other dev controls;
 * a browser page of another origin reaches it when CORS allows that origin.
 *
 *   {"sub":"alice","roles":["editor"],"verified":true,"anonymous":false,"ttlSeconds":1800}
 *   -> {"accessToken":"eyJ…","expiresAt":"2026-12-04T16:20:00.000Z"}
 */

export const DEV_TOKENS_PATH = '/_dev/tokens';
const BODY_LIMIT_BYTES = 4096;
const KEY = /^[A-Za-z0-9_.:-]{1,200}$/;
const MAX_ROLES = 20;
const MAX_TTL_SECONDS = 24 * 3600;

const PERSONA_EXAMPLE = '{"sub":"alice","roles":["editor"],"verified":true,"ttlSeconds":1800}';

export type DevTokenRequest = Readonly<{ req: IncomingMessage; res: ServerResponse; fromLoopback: boolean }>;

export async function handleDevTokenRequest(issuer: DevIssuer, clientId: string | undefined, { req, res, fromLoopback }: DevTokenRequest): Promise<void> {
  if (req.method !== 'POST') {
    sendError(res, 405, 'BAD_REQUEST', `${req.method} is not supported on ${DEV_TOKENS_PATH}; POST a persona as JSON.`, { allow: 'POST, OPTIONS' });
    return;
  }
  if (!fromLoopback) {
    sendError(res, 403, 'FORBIDDEN', 'The dev issuer controls answer loopback clients only.');
    return;
  }
  let persona: Persona;
  try {
    persona = parsePersona(await readBody(req, readHeaders(req).map, BODY_LIMIT_BYTES));
  } catch (error) {
    if (!(error instanceof HttpError)) throw error;
    sendError(res, error.status, error.code, error.message);
    return;
  }
  const nowSeconds = Math.floor(Date.now() / 1000);
  const accessToken = await issuer.mint({ ...persona, nowSeconds, ...(clientId === undefined ? {} : { clientId }) });
  const expiresAt = new Date((nowSeconds + persona.ttlSeconds) * 1000).toISOString();
  sendJson(res, 200, { accessToken, tokenType: 'Bearer', expiresAt }, { 'cache-control': 'no-store' });
}

type Persona = MintOptions & { ttlSeconds: number };

function parsePersona(body: unknown): Persona {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw invalid(`The body must be a JSON object (content-type: application/json), e.g. ${PERSONA_EXAMPLE}.`);
  }
  const { sub, roles = [], verified = false, anonymous = false, ttlSeconds = 1800, ...rest } = body as Record<string, unknown>;
  const extra = Object.keys(rest);
  if (extra.length > 0) throw invalid(`Unknown field ${extra.map((name) => `"${name}"`).join(', ')}: the fields are sub, roles, verified, anonymous and ttlSeconds.`);
  if (typeof sub !== 'string' || !KEY.test(sub)) throw invalid('"sub" must be a user ID of 1 to 200 letters, digits or _ . : -');
  if (!Array.isArray(roles) || roles.length > MAX_ROLES || !roles.every((role): role is string => typeof role === 'string' && KEY.test(role))) {
    throw invalid(`"roles" must be a list of at most ${MAX_ROLES} role keys (letters, digits or _ . : -).`);
  }
  if (typeof verified !== 'boolean') throw invalid('"verified" must be true or false.');
  if (typeof anonymous !== 'boolean') throw invalid('"anonymous" must be true or false.');
  if (typeof ttlSeconds !== 'number' || !Number.isInteger(ttlSeconds) || ttlSeconds < 1 || ttlSeconds > MAX_TTL_SECONDS) {
    throw invalid(`"ttlSeconds" must be a whole number of seconds from 1 to ${MAX_TTL_SECONDS}.`);
  }
  return { sub, roles, verified, anonymous, ttlSeconds };
}

const invalid = (message: string) => new HttpError(400, 'BAD_REQUEST', message);
