import pg from 'pg';

export type PgListener = Readonly<{
  listen(channel: string, onPayload: (payload: string) => void): Promise<() => Promise<void>>;
  close(): Promise<void>;
}>;

/** The LISTEN connection failed; it is reopened after `retryInMs`, and NOTIFYs sent meanwhile are not seen. */
export type OnListenerLost = (error: Error, retryInMs: number) => void;

const CHANNEL = /^[a-z_][a-z0-9_]{0,62}$/;
const FIRST_RETRY_MS = 250;
const LAST_RETRY_MS = 10_000;

/**
 * LISTEN needs a connection of its own for as long as it listens: a pooled
 * one would be handed to other queries and recycled. This one client serves
 * every channel of the process, and is reopened (with backoff) whenever it
 * fails, listening again to every channel.
 */
export function createPgListener(url: string, onLost: OnListenerLost): PgListener {
  const channels = new Map<string, Set<(payload: string) => void>>();
  let client: pg.Client | null = null;
  let connecting: Promise<pg.Client> | null = null;
  let retryTimer: NodeJS.Timeout | null = null;
  let retryMs = FIRST_RETRY_MS;
  let closed = false;

  const quoted = (channel: string) => `"${channel}"`;

  function scheduleReconnect(error: Error): void {
    if (closed || retryTimer !== null) return;
    onLost(error, retryMs);
    retryTimer = setTimeout(() => {
      retryTimer = null;
      connect().catch(scheduleReconnect);
    }, retryMs);
    retryTimer.unref();
    retryMs = Math.min(retryMs * 2, LAST_RETRY_MS);
  }

  function lost(failed: pg.Client, error: Error): void {
    if (client !== failed || closed) return;
    client = null;
    failed.removeAllListeners('notification');
    failed.end().catch(() => undefined);
    scheduleReconnect(error);
  }

  function connect(): Promise<pg.Client> {
    connecting ??= (async () => {
      const next = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5000 });
      next.on('error', (error) => lost(next, error));
      next.on('end', () => lost(next, new Error('the LISTEN connection was closed')));
      next.on('notification', (message) => {
        for (const onPayload of channels.get(message.channel) ?? []) onPayload(message.payload ?? '');
      });
      try {
        await next.connect();
        for (const channel of channels.keys()) await next.query(`LISTEN ${quoted(channel)}`);
      } catch (error) {
        next.removeAllListeners();
        next.on('error', () => undefined);
        next.end().catch(() => undefined);
        throw error;
      }
      client = next;
      retryMs = FIRST_RETRY_MS;
      return next;
    })().finally(() => {
      connecting = null;
    });
    return connecting;
  }

  return {
    async listen(channel, onPayload) {
      if (!CHANNEL.test(channel)) throw new Error(`Not a plain channel name: ${JSON.stringify(channel)}`);
      let callbacks = channels.get(channel);
      const first = callbacks === undefined;
      callbacks ??= new Set();
      callbacks.add(onPayload);
      channels.set(channel, callbacks);
      try {
        // While a reconnect is pending, the new channel is listened to when it succeeds.
        const current = client ?? (retryTimer === null ? await connect() : null);
        // LISTEN is idempotent; a connect already under way may have missed this channel.
        if (current !== null && first) await current.query(`LISTEN ${quoted(channel)}`);
      } catch (error) {
        callbacks.delete(onPayload);
        if (callbacks.size === 0) channels.delete(channel);
        throw error;
      }
      return async () => {
        callbacks.delete(onPayload);
        if (callbacks.size > 0 || channels.get(channel) !== callbacks) return;
        channels.delete(channel);
        await client?.query(`UNLISTEN ${quoted(channel)}`).catch(() => undefined);
      };
    },
    async close() {
      closed = true;
      if (retryTimer !== null) clearTimeout(retryTimer);
      await connecting?.catch(() => undefined);
      const current = client;
      client = null;
      if (current !== null) {
        current.removeAllListeners();
        current.on('error', () => undefined);
        await current.end().catch(() => undefined);
      }
    },
  };
}
