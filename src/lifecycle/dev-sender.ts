import { randomUUID } from 'node:crypto';
import { signBody, SIGNATURE_HEADER } from './signature.js';

export type DevLifecycleEvent = 'user.disabled' | 'user.reenabled' | 'user.deleted';

/**
 * In development, the dev issuer's controls (npm run token -- --disable-user
 * ...) send the same signed webhook calls Authgear would, to this server's
 * own /webhooks/authgear, so the JWT mode's refusal can be seen locally.
 */
export function createDevWebhookSender(url: string, secret: string): (type: DevLifecycleEvent, userId: string) => Promise<void> {
  // Authgear's seq only grows; milliseconds since the epoch keep that across restarts of the dev server.
  let seq = Date.now() * 1000;
  return async (type, userId) => {
    seq++;
    const body = JSON.stringify({
      id: randomUUID(),
      seq,
      type,
      payload: { user: { id: userId } },
      context: { timestamp: Math.floor(Date.now() / 1000), triggered_by: 'admin_api' },
    });
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', [SIGNATURE_HEADER]: signBody(secret, body) },
      body,
      signal: AbortSignal.timeout(5000),
    });
    if (response.status !== 200) throw new Error(`${url} answered HTTP ${response.status}: ${await response.text()}`);
  };
}
