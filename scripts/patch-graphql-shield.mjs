// graphql-shield 7.6.5, its last release, imports `isUndefined` from node:util,
// which Node 23 removed: the ESM build fails to load and chain()/race() throw.
// The upstream fix was merged but never published, so this postinstall step
// makes the same one-line change in both builds. It is idempotent and only
// touches node_modules/graphql-shield.
import { readFile, writeFile } from 'node:fs/promises';

const root = new URL('../node_modules/graphql-shield/', import.meta.url);
const patches = [
  ['esm/rules.js', "import { isUndefined } from 'util';", 'const isUndefined = (value) => value === undefined;'],
  ['cjs/rules.js', 'const util_1 = require("util");', 'const util_1 = { isUndefined: (value) => value === undefined };'],
];

for (const [file, before, after] of patches) {
  const url = new URL(file, root);
  const source = await readFile(url, 'utf8').catch(() => null);
  if (source === null) {
    console.warn(`patch-graphql-shield: ${file} not found; is graphql-shield installed?`);
  } else if (source.includes(before)) {
    await writeFile(url, source.replace(before, after));
  } else if (!source.includes(after)) {
    console.warn(`patch-graphql-shield: ${file} changed upstream; check whether the patch is still needed.`);
  }
}
