import type { ServerResponse } from 'node:http';
import type { ErrorCode } from '../errors.js';

const JSON_HEADERS = { 'content-type': 'application/json; charset=utf-8' };

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { ...JSON_HEADERS, ...headers });
  res.end(JSON.stringify(body));
}

/** An error outside GraphQL execution, in the same shape GraphQL clients already parse. */
export function sendError(res: ServerResponse, status: number, code: ErrorCode, message: string, headers: Record<string, string> = {}): void {
  sendJson(res, status, { errors: [{ message, extensions: { code } }] }, headers);
}
