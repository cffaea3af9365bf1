import { HeaderMap, type ApolloServerPlugin } from '@apollo/server';
import { GraphQLError } from 'graphql';
import type { Context } from '../context.js';
import { operationLabel, type Metrics } from '../metrics.js';
import type { Limits } from './index.js';

/**
 * Apollo's side of the limits: once the operation is known and before it
 * runs, it is priced and paid for (a refusal is the whole response: 400
 * over QUERY_MAX_COST, 429 over budget); the RateLimit headers go on the
 * response, and each operation is counted by name and outcome.
 */
export function limitsPlugin(limits: Limits, metrics: Metrics | null): ApolloServerPlugin<Context> {
  const label = operationLabel();
  return {
    async requestDidStart() {
      let limited = false;
      return {
        async didResolveOperation({ contextValue, document, operationName, request, response }) {
          const admission = await limits.admit({
            document,
            operationName,
            variables: request.variables,
            viewer: contextValue.viewer,
            clientAddress: contextValue.clientAddress,
          });
          if (!admission.admitted) {
            limited = admission.status === 429;
            const { message, extensions } = admission.error;
            throw new GraphQLError(message, { extensions: { ...extensions, http: { status: admission.status, headers: new HeaderMap(admission.headers) } } });
          }
          contextValue.rateLimit = admission.standing;
          for (const [name, value] of admission.headers) response.http.headers.set(name, value);
        },
        ...(metrics === null
          ? {}
          : {
              async willSendResponse({ response, operationName }) {
                if (response.body.kind !== 'single') return;
                const { data, errors } = response.body.singleResult;
                const outcome = limited ? 'rate_limited' : errors === undefined ? 'ok' : data === undefined || data === null ? 'failed' : 'partial';
                metrics.operations.inc({ operation: label(operationName), outcome });
              },
            }),
      };
    },
  };
}
