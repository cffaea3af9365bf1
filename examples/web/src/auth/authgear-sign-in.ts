import authgear, { SessionState } from '@authgear/web';
import type { AuthgearSettings } from '../config';
import type { Session } from './session';
import type { TokenSource } from './tokens';

/**
 * Sign-in with Authgear's web SDK: the authorization-code flow with PKCE by
 * redirect, the refresh token kept by the SDK. The app's redirect URI and
 * origin must be registered in the Authgear portal (docs/web-client.md).
 */

const REDIRECT_PATH = '/auth-redirect';
const redirectUri = () => `${window.location.origin}${REDIRECT_PATH}`;

const tokens: TokenSource = {
  async current() {
    await authgear.refreshAccessTokenIfNeeded();
    return accessToken();
  },
  async renew() {
    // The SDK refreshes only a token it believes expired; the API said otherwise.
    authgear.accessToken = undefined;
    await authgear.refreshAccessTokenIfNeeded();
    return accessToken();
  },
};

function accessToken(): string {
  if (authgear.accessToken === undefined) throw new Error('The Authgear session has ended: sign in again.');
  return authgear.accessToken;
}

const session: Session = {
  method: 'Authgear',
  tokens,
  signOut: () => authgear.logout({ redirectURI: `${window.location.origin}/` }),
};

/** Configures the SDK and finishes a sign-in redirect; resolves to the session, if any. */
export async function resumeAuthgearSession(settings: AuthgearSettings): Promise<Session | null> {
  await authgear.configure({ endpoint: settings.endpoint, clientID: settings.clientId, sessionType: 'refresh_token' });
  if (window.location.pathname === REDIRECT_PATH) {
    await authgear.finishAuthentication();
    window.history.replaceState(null, '', '/');
  }
  return authgear.sessionState === SessionState.Authenticated ? session : null;
}

export function startAuthgearSignIn(): Promise<void> {
  return authgear.startAuthentication({ redirectURI: redirectUri() });
}
