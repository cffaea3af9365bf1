import { getNamedType, getOperationAST, getVariableValues, GraphQLError, isLeafType, type DocumentNode, type GraphQLSchema } from 'graphql';
import { getComplexity, type ComplexityEstimator } from 'graphql-query-complexity';
import { DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE } from '../db/pagination.js';

/**
 * The most selections an operation may have once its fragments are
 * expanded, as graphql-query-complexity counts them (its own default).
 * Past it the estimator stops, and the operation cannot be priced.
 */
export const MAX_PRICED_NODES = 10_000;

// The estimator returns one number, so an estimate carries two counts:
// whole points, and below POINT the leaf fields met outside any list, which
// are free unless a list multiplies them. POINT is above MAX_PRICED_NODES,
// so the leaf count never spills into the points.
const POINT = 2 ** 14;
// Far above any QUERY_MAX_COST, and small enough that points * POINT stays an exact integer.
const MAX_POINTS = 2 ** 36;
const pointsOf = (estimate: number): number => Math.floor(estimate / POINT);
const leavesOf = (estimate: number): number => estimate % POINT;

/**
 * What an operation costs: 1 for each object a field returns, and a list's
 * selection counted once per item it may return, i.e. `first` times (null
 * or absent: the default page), leaf fields included: each leaf of a listed
 * item (each alias of one too) costs 1 per item, since that is what makes a
 * page large. Leaf fields outside lists are free. So `me { id }` costs 1,
 * and `items(first: 100) { edges { node { id name } } }` 1 + 100 x 4. An
 * out-of-range `first` counts as the largest page: its resolver refuses it
 * with BAD_USER_INPUT.
 */
const estimator: ComplexityEstimator = ({ field, args, childComplexity }) => {
  if (isLeafType(getNamedType(field.type))) return 1;
  if (!field.args.some((arg) => arg.name === 'first')) return POINT + childComplexity;
  const first = typeof args['first'] === 'number' ? Math.min(Math.max(args['first'], 1), MAX_PAGE_SIZE) : DEFAULT_PAGE_SIZE;
  const perItem = pointsOf(childComplexity) + leavesOf(childComplexity);
  return POINT * (1 + Math.min(first * perItem, MAX_POINTS));
};

/**
 * An operation's price in points, or why it has none: the estimator gave up
 * (too many selections once fragments are expanded, e.g. nested fragment
 * spreads). Such an operation must be refused, never charged a token price.
 */
export type Price = Readonly<{ points: number }> | Readonly<{ unpriceable: string }>;

export type OperationCost = (document: DocumentNode, operationName: string | null | undefined, variables: Readonly<Record<string, unknown>> | undefined) => Price;

/** Variables that do not fit their types: execution refuses them (BAD_USER_INPUT) and runs nothing, so there is nothing to price. */
const RUNS_NOTHING: Price = Object.freeze({ points: 1 });

/**
 * Prices operations once their variables are known (graphql-armor's cost
 * rule runs at validation, before them). Apollo and the WebSocket server
 * hand the same DocumentNode for the same text, so the price of an operation
 * without variables is computed once per document.
 */
export function createOperationCost(schema: GraphQLSchema): OperationCost {
  const fixed = new WeakMap<DocumentNode, Map<string, Price>>();

  function price(document: DocumentNode, operationName: string | undefined, variables: Record<string, unknown>): Price {
    // Coerced as execution will coerce them: if they do not fit, the operation runs nothing.
    const operation = getOperationAST(document, operationName);
    if (!operation) return RUNS_NOTHING;
    const coerced = getVariableValues(schema, operation.variableDefinitions ?? [], variables);
    if (coerced.errors !== undefined) return RUNS_NOTHING;

    // With its variables valid, any error of the estimator means the operation cannot be priced.
    try {
      const estimate = getComplexity({ schema, query: document, operationName, variables, estimators: [estimator], maxQueryNodes: MAX_PRICED_NODES });
      return { points: Math.max(1, pointsOf(estimate)) };
    } catch (error) {
      if (!(error instanceof GraphQLError)) throw error;
      return { unpriceable: error.message };
    }
  }

  return (document, operationName, variables) => {
    const name = operationName ?? undefined;
    if (variables !== undefined && Object.keys(variables).length > 0) return price(document, name, { ...variables });
    let prices = fixed.get(document);
    if (prices === undefined) {
      prices = new Map();
      fixed.set(document, prices);
    }
    const key = name ?? '';
    let known = prices.get(key);
    if (known === undefined) {
      known = price(document, name, {});
      prices.set(key, known);
    }
    return known;
  };
}
