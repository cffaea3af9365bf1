import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execute } from './helpers/graphql.js';
import { scratchDatabase, TEST_DATABASE_URL, type ScratchDatabase } from './helpers/databases.js';
import { startTestIssuer, type TestIssuer } from './helpers/issuer.js';
import { startReplicas, stopReplicas, type Replica } from './helpers/process.js';
import { authgearEvent, postWebhook } from './helpers/webhooks.js';
import { bearer, connectRaw, wsUrl } from './helpers/ws.js';

// DESIGN 17: every replica refuses within 2 s of the webhook's 200; the
// change travels through LISTEN/NOTIFY.

const SECRET = 'whsec-replicas';

describe.skipIf(TEST_DATABASE_URL === undefined)('two server processes on one PostgreSQL database (needs TEST_DATABASE_URL)', () => {
  let issuer: TestIssuer;
  let scratch: ScratchDatabase;
  const replicas: Replica[] = [];

  beforeAll(async () => {
    issuer = await startTestIssuer();
    scratch = await scratchDatabase('postgres');
    replicas.push(...(await startReplicas(2, { AUTHGEAR_ENDPOINT: issuer.url, DATABASE_URL: scratch.url ?? '', AUTHGEAR_WEBHOOK_SECRET: SECRET })));
  }, 60_000);
  afterAll(async () => {
    stopReplicas(replicas);
    await scratch?.drop();
    await issuer?.close();
  });

  const url = (replica: number) => (replicas[replica] as Replica).url;

  it('replica A takes user.disabled; replica B refuses the user within 2 s and closes their subscription with 4403', async () => {
    const token = await issuer.mint({ sub: 'replicated', verified: true });
    expect((await execute(url(1), '{ me { id } }', { token })).status).toBe(200);
    const onB = await connectRaw(wsUrl(url(1)), bearer(token));
    onB.subscribe('mine', 'subscription { myNoteEvents { kind } }');

    const response = await postWebhook(new URL(url(0)).origin, authgearEvent('user.disabled', 'replicated', { seq: 1 }), { secret: SECRET });
    expect(response.status, response.text).toBe(200);
    const answeredAt = Date.now();
    let refusedAfterMs: number | null = null;
    while (Date.now() - answeredAt < 2000) {
      if ((await execute(url(1), '{ me { id } }', { token })).status === 401) {
        refusedAfterMs = Date.now() - answeredAt;
        break;
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(refusedAfterMs, 'replica B still served the disabled user 2 s after the 200').not.toBeNull();
    expect((await onB.closed).code).toBe(4403);
  });
});
