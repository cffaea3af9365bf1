import { ApolloProvider } from '@apollo/client/react';
import { useEffect, useState, useSyncExternalStore } from 'react';
import { createApiClient } from '../api/client';
import type { Session } from '../auth/session';
import type { LiveStatus } from '../auth/tokens';
import { config } from '../config';
import { EveryoneNotes } from './EveryoneNotes';
import { Me } from './Me';
import { MyNotes } from './MyNotes';
import { SignIn } from './SignIn';

export function App({ initialSession }: { initialSession: Session | null }) {
  const [session, setSession] = useState(initialSession);
  if (session === null) return <SignIn onSignedIn={setSession} />;
  return (
    <SignedIn
      session={session}
      onSignOut={() => {
        setSession(null);
        void session.signOut();
      }}
    />
  );
}

type Tab = 'mine' | 'everyone';

function SignedIn({ session, onSignOut }: { session: Session; onSignOut: () => void }) {
  const live = useLiveStatusStore();
  const [client, setClient] = useState<ReturnType<typeof createApiClient> | null>(null);
  const [tab, setTab] = useState<Tab>('mine');

  useEffect(() => {
    const created = createApiClient(config, session.tokens, live.set);
    setClient(created);
    return () => created.dispose();
  }, [session, live.set]);

  if (client === null) return null;
  return (
    <ApolloProvider client={client.apollo}>
      <header>
        <span>Signed in with {session.method}</span>
        <button type="button" onClick={onSignOut}>
          Sign out
        </button>
      </header>
      <Me />
      <nav>
        <button type="button" aria-pressed={tab === 'mine'} onClick={() => setTab('mine')}>
          My notes
        </button>
        <button type="button" aria-pressed={tab === 'everyone'} onClick={() => setTab('everyone')}>
          Everyone's notes (admins)
        </button>
      </nav>
      {tab === 'mine' ? <MyNotes live={live} /> : <EveryoneNotes />}
    </ApolloProvider>
  );
}

export type LiveStatusStore = ReturnType<typeof useLiveStatusStore>;

/** The WebSocket's state, as the token module reports it, for the page to show. */
function useLiveStatusStore() {
  const [store] = useState(() => {
    let status: LiveStatus = { state: 'connecting' };
    const listeners = new Set<() => void>();
    return {
      set: (next: LiveStatus) => {
        status = next;
        for (const listener of listeners) listener();
      },
      subscribe: (listener: () => void) => {
        listeners.add(listener);
        return () => listeners.delete(listener);
      },
      get: () => status,
    };
  });
  return { ...store, status: useSyncExternalStore(store.subscribe, store.get) };
}
