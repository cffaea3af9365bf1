import { ApolloServer, type ApolloServerPlugin } from '@apollo/server';
import { ApolloServerPluginCacheControlDisabled, ApolloServerPluginLandingPageDisabled } from '@apollo/server/plugin/disabled';
import { ApolloServerPluginLandingPageLocalDefault } from '@apollo/server/plugin/landingPage/default';
import { unwrapResolverError } from '@apollo/server/errors';
import { ApolloArmor } from '@escape.tech/graphql-armor';
import { GraphQLError, OperationTypeNode, type GraphQLFormattedError, type GraphQLSchema, type ValidationContext, type ValidationRule } from 'graphql';
import type { Config } from './config.js';
import type { BaseContext } from './context.js';
import type { Logger } from './logger.js';

export type ApolloOptions = Readonly<{
  config: Config;
  schema: GraphQLSchema;
  logger: Logger;
  /** A dev token that Apollo Sandbox starts with in its Authorization header. */
  sandboxToken: string | null;
  /** The operations Apollo Sandbox opens with (development only). */
  sandboxDocument: string;
  /** More plugins (the limits). */
  plugins?: readonly ApolloServerPlugin<BaseContext>[];
}>;

type Limit = 'depth' | 'aliases' | 'directives';

/** Reports a graphql-armor rejection with a marker that formatError turns into QUERY_LIMIT_EXCEEDED. */
function limitReporter(limit: Limit) {
  return {
    propagateOnRejection: false,
    exposeLimits: true,
    onReject: [
      (ctx: ValidationContext | null, error: GraphQLError) => {
        ctx?.reportError(new GraphQLError(error.message.replace(/^Syntax Error: /, ''), { extensions: { limit } }));
      },
    ],
  };
}

/**
 * The query limits of section 8 that a document alone decides, for every
 * operation over HTTP (Apollo) and over WebSocket. The cost limit needs the
 * variables (`first`), so it is checked later, with the rate limits (src/limits/).
 */
export function queryLimits(config: Config) {
  const { limits } = config.graphql;
  return new ApolloArmor({
    // Apollo's hideSchemaDetailsFromClientErrors already strips "Did you mean" in production.
    blockFieldSuggestion: { enabled: false },
    // graphql-js counts tokens while parsing (parseOptions below), without a second parse.
    maxTokens: { enabled: false },
    maxDepth: { n: limits.maxDepth, ...limitReporter('depth') },
    maxAliases: { n: limits.maxAliases, ...limitReporter('aliases') },
    maxDirectives: { n: limits.maxDirectives, ...limitReporter('directives') },
    costLimit: { enabled: false },
  }).protect();
}

/**
 * Hides what isn't the client's business: in production an unexpected error
 * becomes a generic INTERNAL_SERVER_ERROR (the details are logged with the
 * request id, which the client gets in the x-request-id header).
 */
export function createFormatError(isProduction: boolean) {
  return (formatted: GraphQLFormattedError): GraphQLFormattedError => {
    const { stacktrace, ...extensions } = formatted.extensions ?? {};
    if (typeof extensions['limit'] === 'string') {
      return { ...formatted, extensions: { ...extensions, code: 'QUERY_LIMIT_EXCEEDED' } };
    }
    // Apollo gives this code to every error that did not come with one: the unexpected ones.
    if (extensions['code'] === 'INTERNAL_SERVER_ERROR') {
      return isProduction ? { message: 'Internal server error', extensions: { code: 'INTERNAL_SERVER_ERROR' } } : formatted;
    }
    // A stack trace helps with a bug, not with an expected, coded error.
    return stacktrace === undefined ? formatted : { ...formatted, extensions };
  };
}

/**
 * A subscription over HTTP would run as a query and fail obscurely: say
 * where subscriptions are served. A validation rule, so that Apollo's
 * document cache makes it free for every other request.
 */
const subscriptionsOverWebSocketOnly: ValidationRule = (context) => ({
  OperationDefinition(node) {
    if (node.operation === OperationTypeNode.SUBSCRIPTION) {
      context.reportError(new GraphQLError('Subscriptions are served over WebSocket (graphql-transport-ws) at this same URL, not over HTTP.', { nodes: [node] }));
    }
  },
});

// Where the embedded Sandbox is created; Apollo writes `initialEndpoint` (this page's URL) there.
const SANDBOX_ENDPOINT = /(\n\s*)initialEndpoint,/;

/**
 * Apollo's landing page options have no subscription endpoint, and Sandbox
 * then needs one typed into its connection settings. EmbeddedSandbox takes
 * `initialSubscriptionEndpoint`, so it is added to the page: this same URL
 * as ws:// (wss:// behind TLS). Sandbox opens graphql-ws connections from
 * the page, with its headers (the shared Authorization included) as the
 * connection_init payload.
 */
function withSandboxSubscriptions(landingPage: ApolloServerPlugin<BaseContext>, logger: Logger): ApolloServerPlugin<BaseContext> {
  return {
    async serverWillStart(service) {
      const listener = await landingPage.serverWillStart?.(service);
      if (listener?.renderLandingPage === undefined) return listener;
      const render = listener.renderLandingPage.bind(listener);
      return {
        ...listener,
        async renderLandingPage() {
          const { html } = await render();
          // Apollo renders the page afresh for each request (a new CSP nonce each time).
          return {
            html: async () => {
              const page = typeof html === 'string' ? html : await html();
              if (!SANDBOX_ENDPOINT.test(page)) logger.warn('the Sandbox page changed shape: set its subscriptions URL by hand (ws://<host>/graphql)');
              return page.replace(SANDBOX_ENDPOINT, "$1initialEndpoint,$1initialSubscriptionEndpoint: initialEndpoint.replace(/^http/, 'ws'),");
            },
          };
        },
      };
    },
  };
}

/** Logs errors that are not part of the API's contract, with the request id. */
function unexpectedErrorLogger(logger: Logger): ApolloServerPlugin<BaseContext> {
  return {
    async contextCreationDidFail({ error }) {
      if (!(error instanceof GraphQLError)) logger.error({ err: error }, 'context creation failed');
    },
    async requestDidStart() {
      return {
        async didEncounterErrors({ errors, contextValue }) {
          for (const error of errors) {
            const original = unwrapResolverError(error);
            if (!(original instanceof GraphQLError)) {
              logger.error({ err: original, requestId: contextValue.requestId, path: error.path }, 'unexpected error');
            }
          }
        },
      };
    },
  };
}

export function createApollo({ config, schema, logger, sandboxToken, sandboxDocument, plugins = [] }: ApolloOptions): ApolloServer<BaseContext> {
  const limits = queryLimits(config);
  const landingPage = config.isProduction
    ? ApolloServerPluginLandingPageDisabled()
    : withSandboxSubscriptions(ApolloServerPluginLandingPageLocalDefault({
        document: sandboxDocument,
        // Embedded Sandbox applies initialState.sharedHeaders, also to its introspection
        // queries; the top-level `headers` option is ignored there (apollo-server#7919).
        embed: {
          endpointIsEditable: false,
          initialState: {
            pollForSchemaUpdates: false,
            ...(sandboxToken === null ? {} : { sharedHeaders: { Authorization: `Bearer ${sandboxToken}` } }),
          },
        },
        footer: false,
      }), logger);

  return new ApolloServer<BaseContext>({
    schema,
    logger,
    introspection: config.graphql.introspection,
    includeStacktraceInErrorResponses: config.nodeEnv === 'development',
    hideSchemaDetailsFromClientErrors: config.isProduction,
    csrfPrevention: true,
    allowBatchedHttpRequests: false,
    // main.ts owns the signals: it stops the HTTP server, Apollo and the database in order.
    stopOnTerminationSignals: false,
    parseOptions: { maxTokens: config.graphql.limits.maxTokens },
    validationRules: [...limits.validationRules, subscriptionsOverWebSocketOnly],
    formatError: createFormatError(config.isProduction),
    plugins: [
      // graphql-armor types its plugins against Apollo's CJS build; the runtime objects are the same.
      ...(limits.plugins as unknown as ApolloServerPlugin<BaseContext>[]),
      landingPage,
      // No @cacheControl hints in this schema: skip the per-field hook it installs.
      ApolloServerPluginCacheControlDisabled(),
      unexpectedErrorLogger(logger),
      ...plugins,
    ],
  });
}
