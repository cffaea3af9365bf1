import { describe, expect, it } from 'vitest';
import { MAX_TOKEN_BYTES, readBearerToken } from '../src/auth/bearer.js';
import { AuthError } from '../src/auth/errors.js';

function rejection(values: string[]): { status: number; description: string } {
  try {
    readBearerToken(values);
  } catch (error) {
    if (error instanceof AuthError && error.failure === 'invalid_request') return { status: error.status, description: error.description };
    throw error;
  }
  throw new Error(`accepted ${JSON.stringify(values)}`);
}

describe('readBearerToken', () => {
  it('no header -> null (a guest)', () => {
    expect(readBearerToken(undefined)).toBeNull();
    expect(readBearerToken([])).toBeNull();
  });

  it('returns the token68 credential for any casing of the scheme', () => {
    expect(readBearerToken(['Bearer abc.DEF-_~+/xyz=='])).toBe('abc.DEF-_~+/xyz==');
    expect(readBearerToken(['bEaReR   abc'])).toBe('abc');
  });

  it('another scheme -> 401 invalid_request; malformed Bearer -> 400 invalid_request', () => {
    expect(rejection(['Basic dXNlcjpwYXNz']).status).toBe(401);
    expect(rejection(['Token abc']).status).toBe(401);
    for (const header of ['', 'Bearer', 'Bearer ', 'Bearer a b', 'Bearer "abc"', 'Bearer abc=def', 'Bearer\tabc', ' ', 'Bearer=abc']) {
      expect(rejection([header]).status, header).toBe(400);
    }
  });

  it('more than one Authorization header -> 400', () => {
    expect(rejection(['Bearer a', 'Bearer b']).status).toBe(400);
  });

  it('a token of exactly 8 KiB passes, one byte more -> 400', () => {
    expect(readBearerToken([`Bearer ${'a'.repeat(MAX_TOKEN_BYTES)}`])).toHaveLength(MAX_TOKEN_BYTES);
    expect(rejection([`Bearer ${'a'.repeat(MAX_TOKEN_BYTES + 1)}`]).description).toMatch(/longer than 8192/);
    expect(rejection([`Bearer ${'a'.repeat(1_000_000)}`]).status).toBe(400);
  });
});
