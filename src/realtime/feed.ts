import { EventStream, type StreamBudget } from './event-stream.js';
import type { DeclaredTopic, EventBus, TopicKey } from './events.js';

export type Feed = Readonly<{
  /**
   * The events of `topic` for `key` (or every key), each as graphql's
   * subscribe expects it: `{ [field]: event }`, which the field's default
   * resolver then unwraps.
   */
  stream<Event, F extends string>(topic: DeclaredTopic<unknown, Event>, key: TopicKey, field: F): AsyncIterableIterator<Record<F, Event>>;
  /** Ends every stream of this feed (the connection closed). */
  end(): void;
  /** Streams open. */
  readonly size: number;
}>;

/**
 * One connection's view of the event bus: every stream it opens, of
 * whichever module's topic, is bounded by the connection's one budget.
 */
export function createFeed(bus: EventBus, budget: StreamBudget): Feed {
  const streams = new Set<{ end(): void }>();
  let ended = false;
  return {
    stream<Event, F extends string>(topic: DeclaredTopic<unknown, Event>, key: TopicKey, field: F) {
      const stream: EventStream<Record<F, Event>> = new EventStream(budget, () => {
        unsubscribe();
        streams.delete(stream);
      });
      const unsubscribe = bus.subscribe(topic, key, (event, bytes) => stream.push({ [field]: event } as Record<F, Event>, bytes));
      streams.add(stream);
      if (ended) stream.end();
      return stream;
    },
    end() {
      ended = true;
      for (const stream of streams) stream.end();
    },
    get size() {
      return streams.size;
    },
  };
}
