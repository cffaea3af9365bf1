import { badUserInput } from '../../errors.js';
import type { CreateNoteInput, UpdateNoteInput } from '../../generated/graphql.js';

export const TITLE_MAX_LENGTH = 200;
export const BODY_MAX_LENGTH = 20_000;

// Postgres text cannot hold NUL, and a lone surrogate would be stored as
// U+FFFD: both are refused rather than silently changed.
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
const TITLE_FORBIDDEN = /[\u0000-\u001F\u007F]/;
const BODY_FORBIDDEN = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F]/;

function characters(value: string): number {
  let count = 0;
  for (const _ of value) count++;
  return count;
}

function checkText(field: string, value: string, max: number, forbidden: RegExp, allowed: string): string {
  if (value.trim() === '') throw badUserInput(`${field} must not be empty.`, field);
  if (value.length > max && characters(value) > max) {
    throw badUserInput(`${field} must be at most ${max} characters.`, field);
  }
  if (forbidden.test(value) || LONE_SURROGATE.test(value)) {
    throw badUserInput(`${field} contains characters that are not allowed (${allowed}).`, field);
  }
  return value;
}

const checkTitle = (value: string) => checkText('title', value, TITLE_MAX_LENGTH, TITLE_FORBIDDEN, 'no control characters or line breaks');
const checkBody = (value: string) => checkText('body', value, BODY_MAX_LENGTH, BODY_FORBIDDEN, 'no control characters except tab and line breaks');

export function validateCreateNote(input: CreateNoteInput): { title: string; body: string } {
  return { title: checkTitle(input.title), body: checkBody(input.body) };
}

export function validateUpdateNote(input: UpdateNoteInput): { title: string | null; body: string | null } {
  if (input.title == null && input.body == null) {
    throw badUserInput('Give a new title, a new body or both.');
  }
  return {
    title: input.title == null ? null : checkTitle(input.title),
    body: input.body == null ? null : checkBody(input.body),
  };
}
