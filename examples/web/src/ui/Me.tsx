import { useQuery } from '@apollo/client/react';
import { problemsAt } from '../api/errors';
import { ME, type Profile as ProfileFields } from '../api/operations';
import { Problems } from './Problems';

export function Me() {
  // errorPolicy 'all': a failed profile (UserInfo down, say) leaves the rest of `me` to show.
  const { data, error, loading, refetch } = useQuery(ME, { errorPolicy: 'all', notifyOnNetworkStatusChange: true });
  const me = data?.me;
  if (me === undefined || me === null) {
    if (error !== undefined) return <Problems error={error} what="Loading who you are" />;
    return <p>Loading who you are…</p>;
  }
  const profileProblems = problemsAt(error, ['me', 'profile']);
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
      {profileProblems.at.length > 0 ? (
        <div role="status" className="note" data-testid="profile-problem">
          Your profile could not be loaded (the rest of this page works):
          <ul>
            {profileProblems.at.map((problem, index) => (
              <li key={index}>
                <code>{problem.code}</code> {problem.message}
              </li>
            ))}
          </ul>
          <button type="button" disabled={loading} onClick={() => void refetch().catch(() => undefined)}>
            Load the profile again
          </button>
        </div>
      ) : (
        me.kind === 'USER' && <Profile profile={me.profile} />
      )}
      {profileProblems.elsewhere && <Problems error={error} what="Loading who you are" />}
    </section>
  );
}

/** What the API found of the user's profile: in the token, else from the issuer's UserInfo. */
function Profile({ profile }: { profile: ProfileFields | null }) {
  return (
    <p data-testid="profile">
      Name: <span data-testid="profile-name">{profile?.name ?? 'not shared'}</span> · E-mail:{' '}
      <span data-testid="profile-email">{profile?.email ?? 'not shared'}</span>
    </p>
  );
}
