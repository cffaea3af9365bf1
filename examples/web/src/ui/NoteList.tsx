import type { NotePage } from '../api/operations';

/** The pages of a note connection loaded so far, and a button for the next one. */
export function NoteList({ page, loading, onMore }: { page: NotePage; loading: boolean; onMore: (after: string) => void }) {
  const { edges, pageInfo } = page;
  return (
    <>
      {edges.length === 0 ? (
        <p>No notes yet.</p>
      ) : (
        <ol data-testid="notes">
          {edges.map(({ node }) => (
            <li key={node.id}>
              <strong>{node.title}</strong> <small>by {node.ownerId}</small>
              <p>{node.body}</p>
            </li>
          ))}
        </ol>
      )}
      {pageInfo.hasNextPage && pageInfo.endCursor !== null && (
        <button type="button" disabled={loading} onClick={() => onMore(pageInfo.endCursor as string)}>
          Load more
        </button>
      )}
    </>
  );
}
