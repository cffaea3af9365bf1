import type { TokenSource } from './tokens';

/** A signed-in user, however they signed in. */
export type Session = Readonly<{
  /** How they signed in, for the header: "Authgear" or the dev persona. */
  method: string;
  tokens: TokenSource;
  signOut(): Promise<void>;
}>;
