import { createClient, type Client } from 'graphql-ws';

/**
 * Every rule about access tokens lives here; the rest of the app never
 * touches one.
 *
 * - Every HTTP request carries `Authorization: Bearer <token>`.
 * - A 401 whose error says UNAUTHENTICATED with reason `invalid_token` (the
 *   token expired, or the API refuses it for another reason) renews the
 *   token once and sends the request once more. A second refusal is the
 *   caller's error: the session is over.
 * - The WebSocket reads a token on every (re)connect, in `connectionParams`.
 * - A WebSocket closed with 4403 (its token expired or was refused)
 *   reconnects at once, with a renewed token.
 * - Requests refused together renew once: a token that another request has
 *   already replaced is not renewed again.
 */

/** Where tokens come from: Authgear's SDK (authgear-sign-in.ts) or the API's dev issuer (dev-sign-in.ts). */
export type TokenSource = Readonly<{
  /** The token to send now (a source may renew it first when it is about to expire). */
  current(): Promise<string>;
  /** A new token, whatever the current one's expiry says: the API refused it. */
  renew(): Promise<string>;
}>;

export type LiveStatus =
  | { state: 'connecting' }
  | { state: 'connected'; reconnects: number; lastClose: { code: number; reason: string } | null }
  | { state: 'closed'; code: number; reason: string };

/** graphql-ws's close code for a refused or expired credential (the API's README, Subscriptions). */
const TOKEN_REFUSED = 4403;

export function createTokenKeeper(source: TokenSource) {
  let latest: string | null = null;
  let renewing: Promise<string> | null = null;

  async function current(): Promise<string> {
    latest = await source.current();
    return latest;
  }

  return {
    current,
    /** Renews the refused token, unless someone already replaced it. */
    async renewRefused(refused: string): Promise<string> {
      if (latest !== null && latest !== refused) return current();
      renewing ??= source.renew().finally(() => (renewing = null));
      latest = await renewing;
      return latest;
    },
  };
}

export type TokenKeeper = ReturnType<typeof createTokenKeeper>;

/** A fetch for Apollo's HttpLink that authorizes every request, renewing a refused token once. */
export function authorizedFetch(tokens: TokenKeeper): typeof fetch {
  return async (input, init) => {
    const send = (token: string) => {
      const headers = new Headers(init?.headers);
      headers.set('authorization', `Bearer ${token}`);
      return fetch(input, { ...init, headers });
    };
    const token = await tokens.current();
    const response = await send(token);
    if (!(await isRefusedToken(response))) return response;
    return send(await tokens.renewRefused(token));
  };
}

async function isRefusedToken(response: Response): Promise<boolean> {
  if (response.status !== 401) return false;
  type Body = { errors?: { extensions?: { code?: unknown; reason?: unknown } }[] };
  const body = (await response
    .clone()
    .json()
    .catch(() => null)) as Body | null;
  return body?.errors?.some(({ extensions }) => extensions?.code === 'UNAUTHENTICATED' && extensions.reason === 'invalid_token') ?? false;
}

/** The graphql-ws client: a fresh token on every connect, and a renewed one after a 4403. */
export function createLiveClient(url: string, tokens: TokenKeeper, onStatus: (status: LiveStatus) => void): Client {
  let sentToken: string | null = null;
  let refusedToken: string | null = null;
  let lastClose: { code: number; reason: string } | null = null;
  let reconnects = 0;
  let everConnected = false;

  return createClient({
    url,
    connectionParams: async () => {
      sentToken = refusedToken === null ? await tokens.current() : await tokens.renewRefused(refusedToken);
      refusedToken = null;
      return { Authorization: `Bearer ${sentToken}` };
    },
    // graphql-ws retries every close it does not deem fatal, 4403 included
    // (never 4400, 4401, 4406, 4409, 4429, 4500, nor 1002-1011 but 1006).
    // A renewed token cures a 4403 at once; anything else backs off.
    retryAttempts: Infinity,
    retryWait: (retries) => {
      const ms = lastClose?.code === TOKEN_REFUSED && retries === 0 ? Math.random() * 250 : Math.min(30_000, 1000 * 2 ** retries) + Math.random() * 2700;
      return new Promise((resolve) => setTimeout(resolve, ms));
    },
    on: {
      connecting: () => onStatus({ state: 'connecting' }),
      connected: () => {
        if (everConnected) reconnects += 1;
        everConnected = true;
        onStatus({ state: 'connected', reconnects, lastClose });
      },
      closed: (event) => {
        const { code, reason } = event as CloseEvent;
        lastClose = { code, reason };
        if (code === TOKEN_REFUSED) refusedToken = sentToken;
        onStatus({ state: 'closed', code, reason });
      },
    },
  });
}
