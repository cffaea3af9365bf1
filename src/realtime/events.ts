import type { Database } from '../db/database.js';
import type { Logger } from '../logger.js';

/**
 * A kind of event a module publishes, e.g. "an order changed". Only small
 * messages travel between replicas (ids, far below NOTIFY's 8000 bytes);
 * what they refer to is read once per event on each replica that has
 * subscribers for it.
 */
export type Topic<Message, Event> = Readonly<{
  /** Said in log lines: "ignored a malformed <name> event". */
  name: string;
  /** The LISTEN/NOTIFY channel: a plain lowercase identifier, one per topic. */
  channel: string;
  encode(message: Message): string;
  /** Anyone with database access can NOTIFY a channel: null for anything that does not look exactly right. */
  decode(payload: string): Message | null;
  /** Who an event is for: subscribers of this key get it, and subscribers of every key. */
  keyOf(message: Message): string;
  /**
   * The event subscribers receive, read once per event however many
   * subscribers there are; null drops it (what it refers to is gone).
   */
  load(message: Message): Promise<Event | null> | Event | null;
  /** Roughly what sending the event costs in bytes, for the slow-consumer bound. */
  weigh(event: Event): number;
}>;

/** Subscribes to one key's events, or to every key's. */
export const EVERY_KEY: unique symbol = Symbol('every key');
export type TopicKey = string | typeof EVERY_KEY;

/** Takes one event; `bytes` estimates what sending it costs. */
export type EventSink<Event> = (event: Event, bytes: number) => void;

/** A topic declared on a bus: what a module publishes to and subscribes with. */
export type DeclaredTopic<Message, Event> = Readonly<{
  topic: Topic<Message, Event>;
  /** NOTIFYs every replica. Never rejects: what the event announces is already stored, a lost event is logged. */
  publish(message: Message): Promise<void>;
}>;

export type EventBus = Readonly<{
  /** Before start(): the bus will LISTEN on the topic's channel. */
  declare<Message, Event>(topic: Topic<Message, Event>): DeclaredTopic<Message, Event>;
  /** LISTENs on every declared channel; events published before it resolves are not seen by this process. */
  start(): Promise<void>;
  /** Until the returned function is called, `sink` gets every event of `key` (or of every key). */
  subscribe<Event>(declared: DeclaredTopic<unknown, Event>, key: TopicKey, sink: EventSink<Event>): () => void;
  stop(): Promise<void>;
}>;

const MAX_PAYLOAD_BYTES = 7999;

type Fanout = { byKey: Map<string, Set<EventSink<unknown>>>; everyKey: Set<EventSink<unknown>> };

/**
 * Events over Postgres LISTEN/NOTIFY, so a write on any replica reaches
 * subscribers on all of them. One LISTEN per topic and process; each event
 * is fanned out in-process to the subscribers of its key and to those of
 * every key, and what it refers to is loaded once per event, not once per
 * subscriber. Events of a topic are delivered in the order they were
 * notified, even when their loads finish out of order.
 */
export function createEventBus(deps: Readonly<{ database: Database; logger: Logger }>): EventBus {
  const { database, logger } = deps;
  const declared = new Map<DeclaredTopic<unknown, unknown>, { topic: Topic<unknown, unknown>; fanout: Fanout }>();
  const stops: (() => Promise<void>)[] = [];
  let delivered: Promise<void> = Promise.resolve();

  function received(topic: Topic<unknown, unknown>, fanout: Fanout, payload: string): void {
    const message = topic.decode(payload);
    if (message === null) {
      logger.warn({ channel: topic.channel, bytes: payload.length }, `ignored a malformed ${topic.name} event`);
      return;
    }
    const key = topic.keyOf(message);
    if (fanout.everyKey.size === 0 && !fanout.byKey.has(key)) return;
    // The load starts now; its outcome is settled at once so that a failure is never an unhandled rejection.
    const loading = Promise.resolve()
      .then(() => topic.load(message))
      .then(
        (event) => ({ event }),
        (error: unknown) => ({ error }),
      );
    delivered = delivered.then(async () => {
      const outcome: { event: unknown } | { error: unknown } = await loading;
      if ('error' in outcome) {
        logger.error({ err: outcome.error, channel: topic.channel }, `cannot load a ${topic.name} event; subscribers miss it`);
        return;
      }
      if (outcome.event === null) return;
      const bytes = topic.weigh(outcome.event);
      for (const sink of fanout.byKey.get(key) ?? []) sink(outcome.event, bytes);
      for (const sink of fanout.everyKey) sink(outcome.event, bytes);
    });
  }

  return {
    declare<Message, Event>(topic: Topic<Message, Event>): DeclaredTopic<Message, Event> {
      for (const entry of declared.values()) {
        if (entry.topic.channel === topic.channel) throw new Error(`Two topics use the channel ${topic.channel}: give each its own.`);
      }
      const handle: DeclaredTopic<Message, Event> = {
        topic,
        async publish(message) {
          const payload = topic.encode(message);
          if (Buffer.byteLength(payload) > MAX_PAYLOAD_BYTES) {
            logger.error({ channel: topic.channel, bytes: Buffer.byteLength(payload) }, `${topic.name} event too large to NOTIFY; subscribers miss it`);
            return;
          }
          try {
            await database.notify(topic.channel, payload);
          } catch (error) {
            logger.error({ err: error, channel: topic.channel }, `cannot NOTIFY a ${topic.name} event; subscribers miss it`);
          }
        },
      };
      declared.set(handle, { topic, fanout: { byKey: new Map(), everyKey: new Set() } });
      return handle;
    },
    async start() {
      if (stops.length > 0) return;
      for (const { topic, fanout } of declared.values()) {
        stops.push(await database.listen(topic.channel, (payload) => received(topic, fanout, payload)));
      }
    },
    subscribe<Event>(handle: DeclaredTopic<unknown, Event>, key: TopicKey, sink: EventSink<Event>) {
      const entry = declared.get(handle);
      if (entry === undefined) throw new Error(`The ${handle.topic.name} topic was not declared on this bus.`);
      const { fanout } = entry;
      let sinks: Set<EventSink<unknown>>;
      if (key === EVERY_KEY) sinks = fanout.everyKey;
      else {
        sinks = fanout.byKey.get(key) ?? new Set();
        fanout.byKey.set(key, sinks);
      }
      const added = sink as EventSink<unknown>;
      sinks.add(added);
      return () => {
        sinks.delete(added);
        if (key !== EVERY_KEY && sinks.size === 0 && fanout.byKey.get(key) === sinks) fanout.byKey.delete(key);
      };
    },
    async stop() {
      const stopping = stops.splice(0);
      for (const stop of stopping) await stop();
      await delivered;
    },
  };
}
