import { useQuery } from '@apollo/client/react';
import { ME } from '../api/operations';
import { Problems } from './Problems';

export function Me() {
  const { data, error } = useQuery(ME);
  if (error !== undefined) return <Problems error={error} what="Loading who you are" />;
  if (data === undefined) return <p>Loading who you are…</p>;
  const { me } = data;
  return (
    <section aria-label="me">
      <h2>
        You are <span data-testid="me-id">{me.id}</span>
      </h2>
      <p>
        Roles: <span data-testid="me-roles">{me.roles.length === 0 ? 'none' : me.roles.join(', ')}</span> ·{' '}
        {me.isVerified ? 'verified' : 'not verified'}
        {me.isAnonymous ? ' · anonymous' : ''}
        {me.authenticatedAt === null ? '' : ` · signed in at ${new Date(me.authenticatedAt).toLocaleTimeString()}`}
      </p>
      {/* Profile (e-mail, name) goes here once the API serves Viewer.profile; see ../api/operations.ts. */}
    </section>
  );
}
