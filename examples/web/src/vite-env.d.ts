/// <reference types="vite/client" />

interface ImportMetaEnv {
  readonly VITE_API_URL?: string;
  readonly VITE_AUTHGEAR_ENDPOINT?: string;
  readonly VITE_AUTHGEAR_CLIENT_ID?: string;
}
