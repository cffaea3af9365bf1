import { request } from 'node:http';
import { connect } from 'node:net';

export type RawResponse = { status: number; headers: Record<string, string | string[] | undefined>; text: string };

export type SendOptions = {
  method?: string;
  headers?: Record<string, string>;
  body?: string;
  /** The client's own address, e.g. 127.0.0.2 to play a peer that is not a trusted proxy. */
  localAddress?: string;
};

/** One HTTP request from a chosen loopback address (fetch cannot pick its source address). */
export function send(url: string, options: SendOptions = {}): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method: options.method ?? 'GET',
        headers: options.headers,
        ...(options.localAddress === undefined ? {} : { localAddress: options.localAddress }),
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (text += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text }));
      },
    );
    req.on('error', reject);
    req.end(options.body);
  });
}

/** POSTs a GraphQL operation with `send`. */
export async function sendGraphQL(url: string, query: string, options: Omit<SendOptions, 'body' | 'method'> = {}) {
  const response = await send(url, {
    ...options,
    method: 'POST',
    headers: { 'content-type': 'application/json', ...options.headers },
    body: JSON.stringify({ query }),
  });
  return { ...response, body: JSON.parse(response.text) as { data?: Record<string, unknown> | null; errors?: { message: string; extensions?: Record<string, unknown> }[] } };
}

export type WireResponse = { status: number; headers: string; body: string };

/**
 * Writes a GraphQL POST byte for byte, header pairs exactly as given
 * (repeated names, odd spacing), which an HTTP client would normalise.
 */
export function sendRaw(origin: string, headers: [string, string][], query = '{ me { id } serverInfo { name } }'): Promise<WireResponse> {
  const { hostname, port } = new URL(origin);
  const body = JSON.stringify({ query });
  const head = [
    'POST /graphql HTTP/1.1',
    `host: ${hostname}:${port}`,
    'content-type: application/json',
    `content-length: ${Buffer.byteLength(body)}`,
    'connection: close',
    ...headers.map(([name, value]) => `${name}: ${value}`),
  ];
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname);
    let raw = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => (raw += chunk));
    socket.on('error', reject);
    socket.on('end', () => {
      const split = raw.indexOf('\r\n\r\n');
      const headerText = raw.slice(0, split);
      resolve({ status: Number(/^HTTP\/1\.1 (\d{3})/.exec(headerText)?.[1] ?? 0), headers: headerText, body: raw.slice(split + 4) });
    });
    socket.end(`${head.join('\r\n')}\r\n\r\n${body}`);
  });
}
