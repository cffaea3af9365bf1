import { ApolloServerErrorCode } from '@apollo/server/errors';
import {
  getOperationAST,
  GraphQLError,
  NoSchemaIntrospectionCustomRule,
  parse,
  specifiedRules,
  validate,
  type DocumentNode,
  type GraphQLFormattedError,
  type GraphQLSchema,
  type ValidationRule,
} from 'graphql';
import type { SubscribePayload } from 'graphql-ws';
import { coded } from '../errors.js';
import type { Logger } from '../logger.js';

export type PreparedOperation = Readonly<{
  schema: GraphQLSchema;
  document: DocumentNode;
  operationName: string | undefined;
  variableValues: Record<string, unknown> | undefined;
}>;

export type OperationPolicy = Readonly<{
  schema: GraphQLSchema;
  /** The same limits Apollo applies over HTTP (graphql-armor: depth, aliases, directives, cost). */
  validationRules: readonly ValidationRule[];
  maxTokens: number;
  introspection: boolean;
  isProduction: boolean;
}>;

/** How many distinct documents stay parsed and validated (the oldest goes first), and the longest one kept: at most 2 MB. */
const CHECKED_DOCUMENTS = 500;
const CHECKED_DOCUMENT_LENGTH = 4096;

const withCode = (error: GraphQLError, code: string): GraphQLError =>
  new GraphQLError(error.message, { nodes: error.nodes ?? null, source: error.source ?? null, positions: error.positions ?? null, extensions: { ...error.extensions, code } });

/**
 * Parses and validates a WebSocket operation as Apollo does an HTTP one:
 * the same token limit, validation rules, introspection switch and codes
 * (GRAPHQL_PARSE_FAILED, GRAPHQL_VALIDATION_FAILED, QUERY_LIMIT_EXCEEDED),
 * answered as a graphql-ws `error` message rather than a closed socket.
 */
export function createOperationPreparer(policy: OperationPolicy): (payload: SubscribePayload) => PreparedOperation | GraphQLError[] {
  const rules = [...specifiedRules, ...(policy.introspection ? [] : [NoSchemaIntrospectionCustomRule]), ...policy.validationRules];
  // Clients send the same few documents again and again (a reconnect storm after a deploy: thousands
  // at once); as Apollo does over HTTP, each is parsed and validated once.
  const checked = new Map<string, DocumentNode | GraphQLError[]>();

  function check(query: string): DocumentNode | GraphQLError[] {
    let document: DocumentNode;
    try {
      document = parse(query, { maxTokens: policy.maxTokens });
    } catch (error) {
      if (error instanceof GraphQLError) return [withCode(error, ApolloServerErrorCode.GRAPHQL_PARSE_FAILED)];
      throw error;
    }
    const invalid = validate(policy.schema, document, rules);
    if (invalid.length === 0) return document;
    return invalid.map((error) => {
      // As Apollo's hideSchemaDetailsFromClientErrors: no "Did you mean" hints at the schema in production.
      if (policy.isProduction) error.message = error.message.replace(/ ?Did you mean(.+?)\?$/, '');
      return typeof error.extensions['limit'] === 'string' ? error : withCode(error, ApolloServerErrorCode.GRAPHQL_VALIDATION_FAILED);
    });
  }

  return (payload) => {
    let outcome = checked.get(payload.query);
    if (outcome === undefined) {
      outcome = check(payload.query);
      if (payload.query.length <= CHECKED_DOCUMENT_LENGTH) {
        if (checked.size >= CHECKED_DOCUMENTS) checked.delete(checked.keys().next().value as string);
        checked.set(payload.query, outcome);
      }
    }
    if (Array.isArray(outcome)) return outcome;
    const operationName = payload.operationName ?? undefined;
    if (getOperationAST(outcome, operationName) === null) {
      return [coded(operationName === undefined ? 'Send one operation, or name the one to run in operationName.' : `No operation named ${JSON.stringify(operationName)}.`, 'BAD_REQUEST')];
    }
    return { schema: policy.schema, document: outcome, operationName, variableValues: payload.variables ?? undefined };
  };
}

/**
 * Formats the errors a WebSocket operation answers with, as Apollo's
 * formatError does over HTTP: a code on every error, and unexpected ones
 * logged with the request id and masked in production.
 */
export function createErrorFormatter(options: Readonly<{ formatError: (error: GraphQLFormattedError) => GraphQLFormattedError; logger: Logger }>) {
  return (errors: readonly GraphQLError[], requestId: string): GraphQLFormattedError[] =>
    errors.map((error) => {
      const formatted = error.toJSON();
      let code = formatted.extensions?.['code'];
      if (typeof code !== 'string') {
        // Execution errors outside any field are about the variables, as Apollo's BAD_USER_INPUT.
        code = error.path === undefined ? ApolloServerErrorCode.BAD_USER_INPUT : ApolloServerErrorCode.INTERNAL_SERVER_ERROR;
        if (code === ApolloServerErrorCode.INTERNAL_SERVER_ERROR) options.logger.error({ err: error.originalError ?? error, requestId, path: error.path }, 'unexpected error');
      }
      return options.formatError({ ...formatted, extensions: { ...formatted.extensions, code } });
    });
}
