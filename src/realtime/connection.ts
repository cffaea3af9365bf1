import { randomUUID } from 'node:crypto';
import type { WebSocket } from 'ws';
import type { Viewer } from '../auth/viewer.js';
import type { RequestHeaders } from '../http/headers.js';
import { Close, closeReason, type Closing } from './close-codes.js';
import { startDeadline, type Deadline } from './expiry.js';
import type { EventBus } from './events.js';
import { createFeed, type Feed } from './feed.js';

export const EXPIRED: Closing = { code: Close.forbidden, reason: 'token expired: reconnect with a fresh one' };

/**
 * One WebSocket connection: who it is (once connection_init was
 * authenticated), until when its credential holds, and the byte budget its
 * subscriptions share. Closing it ends its event streams at once, so
 * nothing reaches it after, whatever is still in flight.
 */
export class Connection {
  readonly id = randomUUID();
  readonly openedAt = Date.now();
  viewer: Viewer | null = null;
  feed: Feed | null = null;
  operations = 0;
  closing: Closing | null = null;
  #deadline: Deadline | null = null;
  #queuedBytes = 0;
  #onClose: (() => void) | null = null;

  constructor(
    readonly socket: WebSocket,
    readonly headers: RequestHeaders,
    readonly trustedPeer: boolean,
    readonly clientAddress: string,
    private readonly maxBufferedBytes: number,
  ) {}

  /** Authenticated: from now on it may subscribe, until `deadlineMs`. */
  accept(viewer: Viewer | null, deadlineMs: number, events: EventBus, onClose: () => void): void {
    this.viewer = viewer;
    this.#onClose = onClose;
    this.feed = createFeed(events, {
      admit: (bytes) => this.#admit(bytes),
      release: (bytes) => {
        this.#queuedBytes -= bytes;
      },
    });
    this.#deadline = startDeadline(deadlineMs, () => this.close(EXPIRED));
  }

  #admit(bytes: number): boolean {
    if (this.closing !== null) return false;
    // Checked on each event too: a timer can fire late on a busy event loop.
    if (this.#deadline !== null && Date.now() >= this.#deadline.atMs) {
      this.close(EXPIRED);
      return false;
    }
    if (this.socket.bufferedAmount + this.#queuedBytes + bytes > this.maxBufferedBytes) {
      this.close({ code: Close.policyViolation, reason: `too slow: more than ${this.maxBufferedBytes} bytes of events waiting to be read` });
      return false;
    }
    this.#queuedBytes += bytes;
    return true;
  }

  /** Closes the socket (once), and stops everything that would send on it. */
  close(closing: Closing): void {
    if (this.closing !== null) return;
    this.closing = closing;
    this.released();
    this.socket.close(closing.code, closeReason(closing.reason));
  }

  /** The socket closed, or is closing: timers, streams and the per-viewer count let go of it. */
  released(): void {
    this.#deadline?.cancel();
    this.feed?.end();
    const onClose = this.#onClose;
    this.#onClose = null;
    onClose?.();
  }
}
