import { describeError } from '../api/errors';

/** A failed operation, as the API explained it: the message and its code. */
export function Problems({ error, what }: { error: unknown; what: string }) {
  return (
    <div role="alert" className="problem">
      <strong>{what} failed.</strong>
      <ul>
        {describeError(error).map((problem, index) => (
          <li key={index}>
            <code>{problem.code}</code> {problem.message}
          </li>
        ))}
      </ul>
    </div>
  );
}
