import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { config } from './config';
import { App } from './ui/App';
import './ui/styles.css';

const root = createRoot(document.getElementById('root') as HTMLElement);
// With Authgear, an earlier sign-in (or the redirect coming back from one) resumes before the first render.
// The SDK is loaded only then: development sign-in does without it.
const { authgear } = config;
const resumed = authgear === null ? Promise.resolve(null) : import('./auth/authgear-sign-in').then((sdk) => sdk.resumeAuthgearSession(authgear));
resumed.then(
  (session) =>
    root.render(
      <StrictMode>
        <App initialSession={session} />
      </StrictMode>,
    ),
  (error: unknown) => root.render(<p role="alert">Cannot start the Authgear SDK: {error instanceof Error ? error.message : String(error)}</p>),
);
