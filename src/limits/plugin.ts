import type { ApolloServerPlugin, GraphQLRequestContextDidResolveOperation, GraphQLRequestListener } from '@apollo/server';
import type { BaseContext } from '../context.js';
import { operationLabels, type Metrics } from '../metrics.js';
import { refusalError, type Admission, type Limits } from './index.js';

const DONE: Promise<void> = Promise.resolve();

/**
 * Apollo's side of the limits: once the operation is known and before it
 * runs, it is priced and paid for (a refusal is the whole response: 400
 * over QUERY_MAX_COST, 429 over budget); the RateLimit headers go on the
 * response. Once it ran, a result over QUERY_MAX_RESPONSE_BYTES is
 * replaced by a 400 before Apollo writes it as JSON, and the operation is
 * counted by name and outcome. One listener serves every request, and a
 * decision that needs no store takes no promise: this runs for every
 * operation. (The concurrency slot is the HTTP layer's: it is held until
 * the response is written.)
 */
export function limitsPlugin(limits: Limits, metrics: Metrics | null): ApolloServerPlugin<BaseContext> {
  const count = metrics === null ? null : operationCounter(metrics);

  function apply(admission: Admission, { contextValue, response }: GraphQLRequestContextDidResolveOperation<BaseContext>): void {
    if (!admission.admitted) throw refusalError(admission);
    contextValue.rateLimit = admission.standing;
    for (const [name, value] of admission.headers) response.http.headers.set(name, value);
  }

  const listener: GraphQLRequestListener<BaseContext> = {
    didResolveOperation(requestContext) {
      const { contextValue, document, operationName, request } = requestContext;
      const admission = limits.admit({ document, operationName, variables: request.variables, viewer: contextValue.viewer, clientAddress: contextValue.clientAddress });
      if (admission instanceof Promise) return admission.then((settled) => apply(settled, requestContext));
      try {
        apply(admission, requestContext);
      } catch (error) {
        return Promise.reject(error instanceof Error ? error : new Error(String(error)));
      }
      return DONE;
    },
    willSendResponse(requestContext) {
      const { response } = requestContext;
      if (response.body.kind === 'single') {
        const oversized = limits.oversized(response.body.singleResult);
        if (oversized !== null) {
          response.body.singleResult = { errors: [oversized.toJSON()] };
          response.http.status = 400;
        }
      }
      return count === null ? DONE : count(requestContext);
    },
  };
  const ready = Promise.resolve(listener);
  return { requestDidStart: () => ready };
}

/** Counts each operation by name (a bounded label: src/metrics.ts) and outcome. */
function operationCounter(metrics: Metrics): NonNullable<GraphQLRequestListener<BaseContext>['willSendResponse']> {
  const label = operationLabels(metrics.operations);
  return ({ response, operationName, contextValue }) => {
    if (response.body.kind !== 'single') return DONE;
    const { data, errors } = response.body.singleResult;
    const ran = data !== undefined && data !== null;
    const outcome = response.http.status === 429 ? 'rate_limited' : errors === undefined ? 'ok' : ran ? 'partial' : 'failed';
    // Only an operation that ran for an authenticated viewer may earn its name a label.
    metrics.operations.inc({ operation: label(operationName, ran && contextValue.viewer !== null), outcome });
    return DONE;
  };
}
