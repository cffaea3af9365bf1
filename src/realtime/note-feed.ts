import type { NoteScope } from '../db/notes.js';
import { EventStream, type StreamBudget } from './event-stream.js';
import type { NoteEvent, NoteEvents } from './note-events.js';

export type NoteEventFeed = Readonly<{
  /**
   * The note events in `scope`, each as graphql's subscribe expects it:
   * `{ [field]: event }`, which the field's default resolver then unwraps.
   */
  stream<F extends string>(scope: NoteScope, field: F): AsyncIterableIterator<Record<F, NoteEvent>>;
  /** Ends every stream of this feed (the connection closed). */
  end(): void;
  /** Streams open. */
  readonly size: number;
}>;

/** One connection's view of the note events: every stream it opens is bounded by the connection's budget. */
export function createNoteEventFeed(events: NoteEvents, budget: StreamBudget): NoteEventFeed {
  const streams = new Set<{ end(): void }>();
  let ended = false;
  return {
    stream<F extends string>(scope: NoteScope, field: F) {
      const stream: EventStream<Record<F, NoteEvent>> = new EventStream(budget, () => {
        unsubscribe();
        streams.delete(stream);
      });
      const unsubscribe = events.subscribe(scope, (event, bytes) => stream.push({ [field]: event } as Record<F, NoteEvent>, bytes));
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
