import { useMutation, useQuery, useSubscription } from '@apollo/client/react';
import { useState, type FormEvent } from 'react';
import { CREATE_NOTE, MY_NOTE_EVENTS, MY_NOTES, PAGE_SIZE, type NoteEvent } from '../api/operations';
import type { LiveStatus } from '../auth/tokens';
import type { LiveStatusStore } from './App';
import { NoteList } from './NoteList';
import { Problems } from './Problems';

export function MyNotes({ live }: { live: LiveStatusStore }) {
  const notes = useQuery(MY_NOTES, { variables: { first: PAGE_SIZE }, notifyOnNetworkStatusChange: true });
  const [events, setEvents] = useState<NoteEvent[]>([]);
  const subscription = useSubscription(MY_NOTE_EVENTS, {
    onData: ({ data }) => {
      const event = data.data?.myNoteEvents;
      if (event === undefined) return;
      setEvents((earlier) => [event, ...earlier].slice(0, 20));
      // The first page again, with the change in it.
      void notes.refetch();
    },
  });

  return (
    <>
      <NewNote />
      <section aria-label="my notes">
        <h2>My notes</h2>
        {notes.error !== undefined && <Problems error={notes.error} what="Loading your notes" />}
        {notes.data !== undefined && (
          <NoteList
            page={notes.data.myNotes}
            loading={notes.loading}
            onMore={(after) => void notes.fetchMore({ variables: { after } })}
          />
        )}
      </section>
      <section aria-label="live updates">
        <h2>Live updates</h2>
        <p data-testid="live-status">{describeLive(live.status)}</p>
        {subscription.error !== undefined && <Problems error={subscription.error} what="The live subscription" />}
        <ul data-testid="live-events">
          {events.map((event, index) => (
            <li key={index}>
              {event.kind} {event.note?.title ?? event.noteId}
            </li>
          ))}
        </ul>
      </section>
    </>
  );
}

function describeLive(status: LiveStatus): string {
  switch (status.state) {
    case 'connecting':
      return 'connecting…';
    case 'closed':
      return `closed (${status.code}${status.reason === '' ? '' : `: ${status.reason}`})`;
    case 'connected': {
      const { lastClose, reconnects } = status;
      if (lastClose === null) return 'connected';
      return `connected (reconnected ${reconnects}×; last close ${lastClose.code}${lastClose.reason === '' ? '' : `: ${lastClose.reason}`})`;
    }
  }
}

function NewNote() {
  const [createNote, { error, loading, reset }] = useMutation(CREATE_NOTE);
  const [title, setTitle] = useState('');
  const [body, setBody] = useState('');

  async function submit(event: FormEvent) {
    event.preventDefault();
    reset();
    const result = await createNote({ variables: { input: { title, body } } }).catch(() => null);
    if (result?.data !== undefined && result.data !== null) {
      setTitle('');
      setBody('');
    }
  }

  return (
    <form aria-label="new note" onSubmit={(event) => void submit(event)}>
      <h2>New note</h2>
      <label>
        Title <input name="title" value={title} onChange={(event) => setTitle(event.target.value)} required maxLength={200} />
      </label>
      <label>
        Body <textarea name="body" value={body} onChange={(event) => setBody(event.target.value)} required maxLength={20000} />
      </label>
      <button type="submit" disabled={loading}>
        Create
      </button>
      {error !== undefined && <Problems error={error} what="Creating the note" />}
    </form>
  );
}
