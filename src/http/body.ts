import type { IncomingMessage } from 'node:http';
import type { HeaderMap } from '@apollo/server';
import type { ErrorCode } from '../errors.js';

export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: ErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'HttpError';
  }
}

const JSON_TYPE = /^application\/(json|graphql-response\+json)\s*(;|$)/i;
const CHARSET = /;\s*charset\s*=\s*"?([^";\s]+)/i;

/**
 * Reads a POST body of at most `limit` bytes. JSON bodies are parsed; other
 * content types come back as undefined and Apollo answers them with its own
 * 400. Fails fast on a declared Content-Length over the limit.
 */
export async function readBody(req: IncomingMessage, headers: HeaderMap, limit: number): Promise<unknown> {
  const bytes = await readRawBody(req, headers, limit);

  const contentType = headers.get('content-type') ?? '';
  if (!JSON_TYPE.test(contentType)) return undefined;
  const charset = CHARSET.exec(contentType)?.[1]?.toLowerCase();
  if (charset !== undefined && charset !== 'utf-8' && charset !== 'utf8') {
    throw new HttpError(415, 'BAD_REQUEST', `Unsupported charset "${charset}": send UTF-8 JSON.`);
  }
  try {
    return JSON.parse(bytes.toString('utf8'));
  } catch {
    throw new HttpError(400, 'BAD_REQUEST', 'The request body is not valid JSON.');
  }
}

/** The body's bytes, at most `limit` of them; a declared Content-Length over it is refused before reading. */
export function readRawBody(req: IncomingMessage, headers: HeaderMap, limit: number): Promise<Buffer> {
  const declared = Number(headers.get('content-length'));
  return declared > limit ? Promise.reject(tooLarge(limit)) : collect(req, limit);
}

const tooLarge = (limit: number) => new HttpError(413, 'PAYLOAD_TOO_LARGE', `The request body is larger than ${limit} bytes.`);

function collect(req: IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const cleanup = () => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onError);
      req.off('close', onClose);
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size <= limit) {
        chunks.push(chunk);
        return;
      }
      cleanup();
      // Keep draining without buffering; the 413 goes out with Connection: close.
      req.resume();
      reject(tooLarge(limit));
    };
    const onEnd = () => {
      cleanup();
      resolve(chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks, size));
    };
    const onError = (error: Error) => {
      cleanup();
      reject(error);
    };
    // The client went away before the body was complete.
    const onClose = () => {
      cleanup();
      reject(new HttpError(400, 'BAD_REQUEST', 'The request body was cut short.'));
    };
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onError);
    req.on('close', onClose);
  });
}
