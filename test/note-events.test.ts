import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import type { Database } from '../src/db/database.js';
import { createLogger } from '../src/logger.js';
import { declareNoteEvents, NOTE_EVENTS_CHANNEL, type NoteChange, type NoteEvent } from '../src/modules/notes/events.js';
import type { NoteRecord, NoteRepository, NoteScope } from '../src/modules/notes/repository.js';
import { EventStream } from '../src/realtime/event-stream.js';
import { createEventBus, EVERY_KEY, type EventSink } from '../src/realtime/events.js';

// The in-process side of note events: the notes module's topic on the event bus, one LISTEN, fanned out by owner.

const ID = (n: number) => `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;
const note = (n: number, ownerId: string): NoteRecord => ({ id: ID(n), ownerId, title: `t${n}`, body: 'b', createdAt: new Date(0), updatedAt: new Date(0) });

/** A database whose NOTIFY calls listeners at once, and a repository whose reads finish when told to. */
function fixture() {
  const listeners = new Set<(payload: string) => void>();
  const database = {
    listen: async (_channel: string, onPayload: (payload: string) => void) => {
      listeners.add(onPayload);
      return async () => void listeners.delete(onPayload);
    },
    notify: async (_channel: string, payload: string) => {
      for (const listener of listeners) listener(payload);
    },
  } as unknown as Database;
  const reads: { id: string; finish: () => void }[] = [];
  const stored = new Map<string, NoteRecord>();
  const notes = {
    find: (_scope: unknown, id: string) =>
      new Promise<NoteRecord | null>((resolve) => reads.push({ id, finish: () => resolve(stored.get(id) ?? null) })),
  } as unknown as NoteRepository;
  const lines: string[] = [];
  const logger = createLogger('info', 'json', new Writable({ write: (chunk: Buffer, _e, done) => (lines.push(chunk.toString()), done()) }));
  const bus = createEventBus({ database, logger });
  const topic = declareNoteEvents(bus, notes);
  // The notes module's view of the bus: its topic, subscribed by owner (or everyone's).
  const events = {
    start: () => bus.start(),
    stop: () => bus.stop(),
    publish: (change: NoteChange) => topic.publish(change),
    subscribe: (scope: NoteScope, sink: EventSink<NoteEvent>) => bus.subscribe(topic, scope === 'everyone' ? EVERY_KEY : scope.ownerId, sink),
  };
  return { database, notes, stored, reads, lines, events, notifyRaw: (payload: string) => database.notify(NOTE_EVENTS_CHANNEL, payload) };
}

const flush = () => new Promise((resolve) => setImmediate(resolve));

describe('note events', () => {
  it('are delivered in the order they were notified, even when the second read finishes first', async () => {
    const { events, stored, reads } = fixture();
    await events.start();
    stored.set(ID(1), note(1, 'alice'));
    stored.set(ID(2), note(2, 'alice'));
    const got: NoteEvent[] = [];
    events.subscribe({ ownerId: 'alice' }, (event) => got.push(event));
    await events.publish({ kind: 'CREATED', noteId: ID(1), ownerId: 'alice' });
    await events.publish({ kind: 'CREATED', noteId: ID(2), ownerId: 'alice' });
    reads[1]?.finish();
    await flush();
    expect(got).toEqual([]);
    reads[0]?.finish();
    await flush();
    expect(got.map((event) => event.noteId)).toEqual([ID(1), ID(2)]);
  });

  it('reach the owner\'s subscribers and everyone-subscribers only; each note is read once per event, not per subscriber', async () => {
    const { events, stored, reads } = fixture();
    await events.start();
    stored.set(ID(3), note(3, 'alice'));
    const alice: string[] = [];
    const bob: string[] = [];
    const admin: string[] = [];
    for (let i = 0; i < 5; i++) events.subscribe({ ownerId: 'alice' }, (event) => alice.push(event.kind));
    events.subscribe({ ownerId: 'bob' }, (event) => bob.push(event.kind));
    events.subscribe('everyone', (event) => admin.push(event.kind));
    await events.publish({ kind: 'UPDATED', noteId: ID(3), ownerId: 'alice' });
    for (const read of reads) read.finish();
    await flush();
    expect(reads).toHaveLength(1);
    expect(alice).toEqual(Array(5).fill('UPDATED'));
    expect(bob).toEqual([]);
    expect(admin).toEqual(['UPDATED']);
  });

  it('nobody listening for the owner -> the note is not even read', async () => {
    const { events, reads } = fixture();
    await events.start();
    events.subscribe({ ownerId: 'bob' }, () => undefined);
    await events.publish({ kind: 'CREATED', noteId: ID(4), ownerId: 'alice' });
    expect(reads).toEqual([]);
  });

  it('a note gone by the time it is read is skipped (its DELETED event follows); DELETED carries no note and reads nothing', async () => {
    const { events, reads } = fixture();
    await events.start();
    const got: NoteEvent[] = [];
    events.subscribe({ ownerId: 'alice' }, (event) => got.push(event));
    await events.publish({ kind: 'UPDATED', noteId: ID(5), ownerId: 'alice' });
    await events.publish({ kind: 'DELETED', noteId: ID(5), ownerId: 'alice' });
    for (const read of reads) read.finish();
    await flush();
    expect(reads).toHaveLength(1);
    expect(got).toEqual([{ kind: 'DELETED', noteId: ID(5), note: null }]);
  });

  it.each([
    ['not JSON', 'CREATED 1 alice'],
    ['an unknown kind', JSON.stringify({ k: 'HACKED', id: ID(1), o: 'alice' })],
    ['an id that is not a UUID', JSON.stringify({ k: 'CREATED', id: "1' OR 1=1", o: 'alice' })],
    ['no owner', JSON.stringify({ k: 'CREATED', id: ID(1) })],
    ['null', 'null'],
  ])('a NOTIFY payload that is %s is ignored with a warning', async (_what, payload) => {
    const { events, reads, lines, notifyRaw } = fixture();
    await events.start();
    const got: NoteEvent[] = [];
    events.subscribe('everyone', (event) => got.push(event));
    await notifyRaw(payload);
    await flush();
    expect(got).toEqual([]);
    expect(reads).toEqual([]);
    expect(lines.join('')).toContain('ignored a malformed note event');
  });

  it('unsubscribing stops delivery; stop() stops listening', async () => {
    const { events } = fixture();
    await events.start();
    const got: string[] = [];
    const unsubscribe = events.subscribe({ ownerId: 'alice' }, (event) => got.push(event.kind));
    await events.publish({ kind: 'DELETED', noteId: ID(6), ownerId: 'alice' });
    await flush();
    unsubscribe();
    await events.publish({ kind: 'DELETED', noteId: ID(7), ownerId: 'alice' });
    await flush();
    expect(got).toEqual(['DELETED']);
    const again: string[] = [];
    events.subscribe({ ownerId: 'alice' }, (event) => again.push(event.kind));
    await events.stop();
    await events.publish({ kind: 'DELETED', noteId: ID(8), ownerId: 'alice' });
    await flush();
    expect(again).toEqual([]);
  });
});

describe('an event stream', () => {
  it('admits each event against its connection\'s budget, and releases what it hands out or drops', async () => {
    let budget = 0;
    const stream = new EventStream<number>(
      { admit: (bytes) => (budget + bytes <= 100 ? ((budget += bytes), true) : false), release: (bytes) => void (budget -= bytes) },
      () => undefined,
    );
    stream.push(1, 60);
    stream.push(2, 60);
    expect(budget).toBe(60);
    expect(await stream.next()).toEqual({ value: 1, done: false });
    expect(budget).toBe(0);
    const waiting = stream.next();
    stream.push(3, 60);
    expect(await waiting).toEqual({ value: 3, done: false });
    stream.push(4, 30);
    await stream.return();
    expect(budget).toBe(0);
    expect(await stream.next()).toEqual({ value: undefined, done: true });
  });
});
