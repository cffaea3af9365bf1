import { createHmac, timingSafeEqual } from 'node:crypto';

/** The header Authgear signs every webhook call with (pkg/lib/hook in Authgear's source). */
export const SIGNATURE_HEADER = 'x-authgear-body-signature';

const HEX_SHA256 = /^[0-9a-f]{64}$/;

/** Lowercase hex HMAC-SHA256 of the raw body; the key is the secret's UTF-8 bytes, as the portal shows it. */
export function signBody(secret: string, body: Buffer | string): string {
  return createHmac('sha256', Buffer.from(secret, 'utf8')).update(body).digest('hex');
}

/** Whether `signature` is the body's, compared in constant time. */
export function isSignedBy(secret: string, body: Buffer, signature: string | undefined): boolean {
  if (signature === undefined || !HEX_SHA256.test(signature)) return false;
  return timingSafeEqual(Buffer.from(signBody(secret, body), 'hex'), Buffer.from(signature, 'hex'));
}
