import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';

/** The nginx binary on PATH or in Debian's /usr/sbin, or null. */
export function findNginx(): string | null {
  const dirs = [...(process.env['PATH'] ?? '').split(delimiter), '/usr/sbin', '/usr/local/sbin', '/usr/local/nginx/sbin'];
  for (const dir of dirs) {
    try {
      accessSync(join(dir, 'nginx'), constants.X_OK);
      return join(dir, 'nginx');
    } catch {
      // not in this folder
    }
  }
  return null;
}
