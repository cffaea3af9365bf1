import WebSocket from 'ws';

export type Message = { id?: string; type: string; payload?: unknown };
export type Closed = { code: number; reason: string };

/** A graphql-transport-ws connection spoken by hand, for exact messages and close codes. */
export type RawConnection = {
  readonly socket: WebSocket;
  readonly messages: Message[];
  /** Resolves when the server closes (or the socket fails), with the code and reason. */
  readonly closed: Promise<Closed>;
  send(message: Message): void;
  /** The first message (already received or still to come) that matches, or a timeout naming what was seen. */
  next(match: (message: Message) => boolean, timeoutMs?: number): Promise<Message>;
  /** Sends connection_init and resolves with connection_ack, or with the close that came instead. */
  init(payload?: Record<string, unknown>): Promise<Message | Closed>;
  subscribe(id: string, query: string, variables?: Record<string, unknown>): void;
  close(): Promise<void>;
};

export type OpenOptions = {
  headers?: Record<string, string>;
  /** The client's own address, e.g. 127.0.0.2 to play a peer that is not a trusted proxy. */
  localAddress?: string;
  protocol?: string;
};

export const wsUrl = (httpUrl: string): string => httpUrl.replace(/^http/, 'ws');

export function isClosed(value: Message | Closed): value is Closed {
  return 'code' in value;
}

/** Opens a socket; rejects with the HTTP status when the upgrade is refused. */
export function openRaw(url: string, options: OpenOptions = {}): Promise<RawConnection> {
  const socket = new WebSocket(url, options.protocol ?? 'graphql-transport-ws', {
    headers: options.headers,
    ...(options.localAddress === undefined ? {} : { localAddress: options.localAddress }),
  });
  const messages: Message[] = [];
  const waiters = new Set<() => void>();
  const closed = new Promise<Closed>((resolve) => {
    socket.on('close', (code, reason) => {
      resolve({ code, reason: reason.toString() });
      for (const wake of waiters) wake();
    });
  });
  socket.on('message', (data: Buffer) => {
    messages.push(JSON.parse(data.toString()) as Message);
    for (const wake of waiters) wake();
  });
  const connection: RawConnection = {
    socket,
    messages,
    closed,
    send: (message) => socket.send(JSON.stringify(message)),
    next(match, timeoutMs = 5000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const found = messages.find(match);
          if (found === undefined) return false;
          waiters.delete(check);
          clearTimeout(timer);
          resolve(found);
          return true;
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`no matching message within ${timeoutMs} ms; got ${JSON.stringify(messages).slice(0, 1500)}`));
        }, timeoutMs);
        if (!check()) waiters.add(check);
      });
    },
    async init(payload) {
      connection.send({ type: 'connection_init', ...(payload === undefined ? {} : { payload }) });
      return Promise.race([connection.next((m) => m.type === 'connection_ack', 10_000), closed]);
    },
    subscribe(id, query, variables) {
      connection.send({ id, type: 'subscribe', payload: { query, ...(variables === undefined ? {} : { variables }) } });
    },
    async close() {
      if (socket.readyState === WebSocket.CLOSED) return;
      socket.close(1000);
      await closed;
    },
  };
  return new Promise((resolve, reject) => {
    socket.once('open', () => resolve(connection));
    socket.once('unexpected-response', (_req, res) => {
      let body = '';
      res.on('data', (chunk: Buffer) => (body += chunk.toString()));
      res.on('end', () => reject(Object.assign(new Error(`upgrade refused with ${res.statusCode}: ${body}`), { status: res.statusCode, body })));
    });
    socket.once('error', reject);
  });
}

/** Opens, sends connection_init and expects connection_ack. */
export async function connectRaw(url: string, payload?: Record<string, unknown>, options: OpenOptions = {}): Promise<RawConnection> {
  const connection = await openRaw(url, options);
  const answer = await connection.init(payload);
  if (isClosed(answer)) throw new Error(`closed ${answer.code} "${answer.reason}" instead of connection_ack`);
  return connection;
}

export const bearer = (token: string) => ({ Authorization: `Bearer ${token}` });

/** The `next` payloads of one subscription, in order. */
export const nexts = (connection: RawConnection, id: string): { data?: Record<string, unknown> | null; errors?: { message: string; extensions?: Record<string, unknown> }[] }[] =>
  connection.messages.filter((m) => m.id === id && m.type === 'next').map((m) => m.payload as never);

/** The error codes a subscription ended with: from an `error` message, or from `next` errors. */
export function errorCodes(connection: RawConnection, id: string): unknown[] {
  const error = connection.messages.find((m) => m.id === id && m.type === 'error');
  if (error !== undefined) return (error.payload as { extensions?: { code?: unknown } }[]).map((e) => e.extensions?.code);
  return nexts(connection, id).flatMap((n) => (n.errors ?? []).map((e) => e.extensions?.['code']));
}
