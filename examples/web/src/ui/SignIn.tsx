import { useState, type FormEvent } from 'react';
import { signInAsPersona } from '../auth/dev-sign-in';
import type { Session } from '../auth/session';
import { config } from '../config';

export function SignIn({ onSignedIn }: { onSignedIn: (session: Session) => void }) {
  const [problem, setProblem] = useState<string | null>(null);
  if (config.authgear !== null) {
    return (
      <main>
        <h1>Notes</h1>
        <button type="button" onClick={() =>
            void import('../auth/authgear-sign-in')
              .then((sdk) => sdk.startAuthgearSignIn())
              .catch((error: unknown) => setProblem(String(error)))
          }>
          Sign in with Authgear
        </button>
        {problem !== null && <p role="alert">{problem}</p>}
      </main>
    );
  }
  return <DevSignIn onSignedIn={onSignedIn} />;
}

/** No Authgear configured: pick a persona, and the API's dev issuer signs a token for it. */
function DevSignIn({ onSignedIn }: { onSignedIn: (session: Session) => void }) {
  const [sub, setSub] = useState('alice');
  const [roles, setRoles] = useState('');
  const [verified, setVerified] = useState(true);
  const [anonymous, setAnonymous] = useState(false);
  const [ttlSeconds, setTtlSeconds] = useState(1800);
  const [problem, setProblem] = useState<string | null>(null);

  async function submit(event: FormEvent) {
    event.preventDefault();
    setProblem(null);
    const persona = { sub, roles: roles.split(',').map((role) => role.trim()).filter((role) => role !== ''), verified, anonymous, ttlSeconds };
    try {
      onSignedIn(await signInAsPersona(config.apiUrl, persona));
    } catch (error) {
      setProblem(error instanceof Error ? error.message : String(error));
    }
  }

  return (
    <main>
      <h1>Notes</h1>
      <p>
        Development sign-in: the API at {config.apiUrl} signs tokens itself (no AUTHGEAR_ENDPOINT). Set VITE_AUTHGEAR_ENDPOINT and
        VITE_AUTHGEAR_CLIENT_ID to sign in with Authgear instead.
      </p>
      <form aria-label="dev sign-in" onSubmit={(event) => void submit(event)}>
        <label>
          User ID <input name="sub" value={sub} onChange={(event) => setSub(event.target.value)} required />
        </label>
        <label>
          Roles (comma-separated, e.g. admin) <input name="roles" value={roles} onChange={(event) => setRoles(event.target.value)} />
        </label>
        <label>
          <input type="checkbox" name="verified" checked={verified} onChange={(event) => setVerified(event.target.checked)} /> verified
          (may create notes)
        </label>
        <label>
          <input type="checkbox" name="anonymous" checked={anonymous} onChange={(event) => setAnonymous(event.target.checked)} /> anonymous
          user
        </label>
        <label>
          Token lifetime in seconds (a few seconds shows the renewal at work){' '}
          <input name="ttlSeconds" type="number" min={1} max={86400} value={ttlSeconds} onChange={(event) => setTtlSeconds(Number(event.target.value))} />
        </label>
        <button type="submit">Sign in</button>
      </form>
      {problem !== null && <p role="alert">{problem}</p>}
    </main>
  );
}
