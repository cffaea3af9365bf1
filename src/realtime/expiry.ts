import type { Viewer } from '../auth/viewer.js';

// setTimeout fires at once for anything longer (about 24.8 days) and warns.
const LONGEST_TIMER_MS = 2 ** 31 - 1;

export type Deadline = Readonly<{ atMs: number; cancel(): void }>;

/**
 * Until when a connection's credential holds: a JWT until its `exp` plus
 * the clock tolerance the verifier allowed, as a request would be refused
 * after it; the resolver's answer (a session that may be revoked any time)
 * for `maxLifetimeSeconds`, after which the proxy is asked again on
 * reconnect. A guest has nothing that expires.
 */
export function credentialDeadline(
  viewer: Viewer | null,
  nowMs: number,
  options: Readonly<{ clockToleranceSeconds: number; maxLifetimeSeconds: number }>,
): number {
  if (viewer === null) return Number.POSITIVE_INFINITY;
  if (viewer.source === 'resolver') return nowMs + options.maxLifetimeSeconds * 1000;
  const exp = viewer.claims.exp;
  // The verifier requires exp; a token without one would not have become a viewer.
  return typeof exp === 'number' ? (exp + options.clockToleranceSeconds) * 1000 : nowMs;
}

/** One unref'd timer that calls `onDeadline` at `atMs`, however far away that is. */
export function startDeadline(atMs: number, onDeadline: () => void): Deadline {
  let timer: NodeJS.Timeout | null = null;
  const arm = () => {
    const wait = atMs - Date.now();
    if (wait <= 0) {
      timer = null;
      onDeadline();
      return;
    }
    timer = setTimeout(arm, Math.min(wait, LONGEST_TIMER_MS));
    timer.unref();
  };
  if (Number.isFinite(atMs)) arm();
  return {
    atMs,
    cancel() {
      if (timer !== null) clearTimeout(timer);
      timer = null;
    },
  };
}
