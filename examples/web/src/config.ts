/** What the app is built against, from VITE_* variables (.env.example). */

export type AuthgearSettings = Readonly<{ endpoint: string; clientId: string }>;

export type AppConfig = Readonly<{
  /** The API's GraphQL endpoint over HTTP. */
  apiUrl: string;
  /** The same endpoint for graphql-ws: ws:// or wss://. */
  wsUrl: string;
  /** null: sign in with the API's embedded dev issuer instead. */
  authgear: AuthgearSettings | null;
}>;

const setting = (value: string | undefined) => (value === undefined || value.trim() === '' ? undefined : value.trim());

function readConfig(env: ImportMetaEnv): AppConfig {
  const apiUrl = new URL(setting(env.VITE_API_URL) ?? 'http://localhost:4000/graphql');
  const wsUrl = new URL(apiUrl);
  wsUrl.protocol = apiUrl.protocol === 'https:' ? 'wss:' : 'ws:';
  const endpoint = setting(env.VITE_AUTHGEAR_ENDPOINT);
  const clientId = setting(env.VITE_AUTHGEAR_CLIENT_ID);
  if ((endpoint === undefined) !== (clientId === undefined)) {
    throw new Error('Set both VITE_AUTHGEAR_ENDPOINT and VITE_AUTHGEAR_CLIENT_ID to sign in with Authgear, or neither to use the dev issuer.');
  }
  return {
    apiUrl: apiUrl.href,
    wsUrl: wsUrl.href,
    authgear: endpoint === undefined || clientId === undefined ? null : { endpoint: endpoint.replace(/\/$/, ''), clientId },
  };
}

export const config = readConfig(import.meta.env);
