import { ApolloClient, ApolloLink, HttpLink, InMemoryCache } from '@apollo/client';
import { GraphQLWsLink } from '@apollo/client/link/subscriptions';
import { relayStylePagination } from '@apollo/client/utilities';
import { OperationTypeNode } from 'graphql';
import { authorizedFetch, createLiveClient, createTokenKeeper, type LiveStatus, type TokenSource } from '../auth/tokens';

export type ApiClient = Readonly<{ apollo: ApolloClient; dispose(): void }>;

/** Apollo Client for one session: queries and mutations over HTTP, subscriptions over graphql-ws. */
export function createApiClient(urls: { apiUrl: string; wsUrl: string }, source: TokenSource, onLiveStatus: (status: LiveStatus) => void): ApiClient {
  const tokens = createTokenKeeper(source);
  const live = createLiveClient(urls.wsUrl, tokens, onLiveStatus);
  const link = ApolloLink.split(
    ({ operationType }) => operationType === OperationTypeNode.SUBSCRIPTION,
    new GraphQLWsLink(live),
    new HttpLink({ uri: urls.apiUrl, fetch: authorizedFetch(tokens) }),
  );
  const cache = new InMemoryCache({
    typePolicies: {
      // Pages of a Relay connection, appended as fetchMore brings them.
      Query: { fields: { myNotes: relayStylePagination(), allNotes: relayStylePagination(['ownerId']) } },
    },
  });
  const apollo = new ApolloClient({ link, cache });
  return {
    apollo,
    dispose() {
      apollo.stop();
      void live.dispose();
    },
  };
}
