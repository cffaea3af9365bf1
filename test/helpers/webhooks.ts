import { randomUUID } from 'node:crypto';
import { signBody } from '../../src/lifecycle/signature.js';
import { send, type RawResponse } from './http.js';

/** What Authgear would POST for an event about a user: its envelope, signed with `secret`. */
export function authgearEvent(type: string, userId: string, options: { id?: string; seq?: number; payload?: Record<string, unknown> } = {}): string {
  return JSON.stringify({
    id: options.id ?? randomUUID(),
    ...(options.seq === undefined ? {} : { seq: options.seq }),
    type,
    payload: options.payload ?? { user: { id: userId, created_at: '2026-11-01T00:00:00Z' } },
    context: { timestamp: Math.floor(Date.now() / 1000), triggered_by: 'admin_api' },
  });
}

/** POSTs a body to /webhooks/authgear, signed with `secret` (or with the signature given, or none). */
export function postWebhook(origin: string, body: string, signing: { secret: string } | { signature: string | null }): Promise<RawResponse> {
  const signature = 'secret' in signing ? signBody(signing.secret, body) : signing.signature;
  return send(`${origin}/webhooks/authgear`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(signature === null ? {} : { 'x-authgear-body-signature': signature }) },
    body,
  });
}
