import { getNamedType, isLeafType, type DocumentNode, type GraphQLSchema } from 'graphql';
import { getComplexity, type ComplexityEstimator } from 'graphql-query-complexity';
import { DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE } from '../db/pagination.js';

/**
 * What an operation costs: 1 for each object a field returns (leaf fields
 * are free), and a list's selection counted once per item it may return,
 * i.e. `first` times (null or absent: the default page). So `me` costs 1,
 * and `items(first: 100)` about five times `items(first: 20)`. An
 * out-of-range `first` counts as the largest page: its resolver refuses it
 * with BAD_USER_INPUT.
 */
const estimator: ComplexityEstimator = ({ field, args, childComplexity }) => {
  const own = isLeafType(getNamedType(field.type)) ? 0 : 1;
  if (!field.args.some((arg) => arg.name === 'first')) return own + childComplexity;
  const first = typeof args['first'] === 'number' ? Math.min(Math.max(args['first'], 1), MAX_PAGE_SIZE) : DEFAULT_PAGE_SIZE;
  return own + childComplexity * first;
};

export type OperationCost = (document: DocumentNode, operationName: string | null | undefined, variables: Readonly<Record<string, unknown>> | undefined) => number;

/**
 * Prices operations once their variables are known (graphql-armor's cost
 * rule runs at validation, before them). Apollo and the WebSocket server
 * hand the same DocumentNode for the same text, so the cost of an operation
 * without variables is computed once per document.
 */
export function createOperationCost(schema: GraphQLSchema): OperationCost {
  const fixed = new WeakMap<DocumentNode, Map<string, number>>();
  const price = (document: DocumentNode, operationName: string | undefined, variables: Record<string, unknown>): number => {
    try {
      return Math.max(1, getComplexity({ schema, query: document, operationName, variables, estimators: [estimator] }));
    } catch {
      // Variables that do not fit their types: execution answers BAD_USER_INPUT for them.
      return 1;
    }
  };
  return (document, operationName, variables) => {
    const name = operationName ?? undefined;
    if (variables !== undefined && Object.keys(variables).length > 0) return price(document, name, { ...variables });
    let costs = fixed.get(document);
    if (costs === undefined) {
      costs = new Map();
      fixed.set(document, costs);
    }
    const key = name ?? '';
    let cost = costs.get(key);
    if (cost === undefined) {
      cost = price(document, name, {});
      costs.set(key, cost);
    }
    return cost;
  };
}
