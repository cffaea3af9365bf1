import { useQuery } from '@apollo/client/react';
import { ALL_NOTES, PAGE_SIZE } from '../api/operations';
import { NoteList } from './NoteList';
import { Problems } from './Problems';

/** allNotes is for role admin: anyone else sees the API's FORBIDDEN, explained. */
export function EveryoneNotes() {
  const notes = useQuery(ALL_NOTES, { variables: { first: PAGE_SIZE }, notifyOnNetworkStatusChange: true });
  return (
    <section aria-label="everyone's notes">
      <h2>Everyone's notes</h2>
      {notes.error !== undefined && (
        <>
          <Problems error={notes.error} what="Loading everyone's notes" />
          <button type="button" disabled={notes.loading} onClick={() => void notes.refetch().catch(() => undefined)}>
            Try again
          </button>
        </>
      )}
      {notes.data !== undefined && <NoteList page={notes.data.allNotes} loading={notes.loading} onMore={(after) => void notes.fetchMore({ variables: { after } })} />}
    </section>
  );
}
