import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const guides = readdirSync(join(root, 'docs'))
  .filter((name) => name.endsWith('.md'))
  .map((name) => join('docs', name));
const documents = ['README.md', ...guides];

/** The lines outside fenced code blocks, where Markdown headings and links live. */
function proseLines(text: string): string[] {
  let fenced = false;
  return text.split('\n').filter((line) => {
    if (/^\s*(```|~~~)/.test(line)) {
      fenced = !fenced;
      return false;
    }
    return !fenced;
  });
}

/**
 * GitHub's anchor for a heading: lowercase, punctuation other than '-' and
 * '_' dropped, each space a '-'; a repeated slug gets -1, -2, ...
 */
function slug(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, '')
    .replace(/\s/g, '-');
}

const read = (file: string) => readFileSync(join(root, file), 'utf8');

function anchorsIn(text: string): Set<string> {
  const anchors = new Set<string>();
  for (const line of proseLines(text)) {
    const heading = /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(line)?.[1];
    if (heading === undefined) continue;
    const base = slug(heading);
    let anchor = base;
    for (let n = 1; anchors.has(anchor); n += 1) anchor = `${base}-${n}`;
    anchors.add(anchor);
  }
  return anchors;
}

/** Every Markdown link target of a document that is not an absolute URL. */
function relativeLinksIn(text: string): string[] {
  const targets: string[] = [];
  for (const line of proseLines(text)) {
    // Inline code may show link syntax without being a link.
    const prose = line.replace(/`[^`]*`/g, '');
    for (const match of prose.matchAll(/\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g)) {
      const target = match[1];
      if (target !== undefined && !/^[a-z][a-z0-9+.-]*:/i.test(target)) targets.push(target);
    }
  }
  return targets;
}

/** The links of `text`, a document at `file`, whose file or anchor does not exist. */
function deadLinksIn(file: string, text: string): string[] {
  const dead: string[] = [];
  for (const target of relativeLinksIn(text)) {
    const [path = '', anchor] = target.split('#', 2);
    const targetFile = path === '' ? file : relative(root, join(root, dirname(file), path));
    if (path !== '' && !existsSync(join(root, targetFile))) {
      dead.push(`${target}: no file ${targetFile}`);
      continue;
    }
    const anchors = path === '' ? anchorsIn(text) : targetFile.endsWith('.md') ? anchorsIn(read(targetFile)) : null;
    if (anchor !== undefined && anchors !== null && !anchors.has(anchor)) {
      dead.push(`${target}: no heading of ${targetFile} has the anchor #${anchor}`);
    }
  }
  return dead;
}

describe('the documentation', () => {
  it('the anchor of a heading follows GitHub: lowercase, punctuation dropped, spaces to -', () => {
    expect(slug('Calling the API from a backend (M2M)')).toBe('calling-the-api-from-a-backend-m2m');
    expect(slug('The token rules (`examples/web/src/auth/tokens.ts`)')).toBe('the-token-rules-exampleswebsrcauthtokensts');
    expect(slug('Authgear webhooks: disabled and deleted users')).toBe('authgear-webhooks-disabled-and-deleted-users');
    expect(slug('Dev tokens: `npm run token`')).toBe('dev-tokens-npm-run-token');
  });

  it('a dead link is caught: a missing file, a missing anchor in another file or in the same one', () => {
    const text = [
      '# A guide',
      '## Try it',
      '[fine](#try-it) [fine](../README.md#quick-start) [fine](configuration.md) [fine](https://example.com/#x)',
      '`[code, not a link](nowhere.md)`',
      '[no file](nowhere.md) [no heading](../README.md#no-such-heading) [no heading here](#try-it-now)',
      '```md',
      '[in a code block](nowhere-either.md)',
      '```',
    ].join('\n');
    expect(deadLinksIn('docs/guide.md', text)).toEqual([
      'nowhere.md: no file docs/nowhere.md',
      '../README.md#no-such-heading: no heading of README.md has the anchor #no-such-heading',
      '#try-it-now: no heading of docs/guide.md has the anchor #try-it-now',
    ]);
  });

  it('checks links of every kind: in-page anchors, other guides, the README from docs/', () => {
    const links = documents.flatMap((file) => relativeLinksIn(read(file)));
    expect(links.some((link) => link.startsWith('#'))).toBe(true);
    expect(links.some((link) => /\.md#/.test(link))).toBe(true);
    expect(links.some((link) => link.startsWith('../README.md'))).toBe(true);
  });

  it.each(documents)('%s: every relative link names a file that exists and an anchor that is one of its headings', (file) => {
    expect(deadLinksIn(file, read(file))).toEqual([]);
  });

  it('README.md stays a front page: at most 300 lines', () => {
    const lines = read('README.md').trimEnd().split('\n').length;
    expect(lines).toBeLessThanOrEqual(300);
  });

  it('the README links every guide in docs/', () => {
    const linked = new Set(relativeLinksIn(read('README.md')).map((target) => target.split('#')[0]));
    expect(guides.filter((guide) => !linked.has(guide))).toEqual([]);
  });
});
