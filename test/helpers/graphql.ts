export type GraphQLResponse = {
  status: number;
  headers: Headers;
  body: {
    data?: Record<string, unknown> | null;
    errors?: { message: string; path?: (string | number)[]; extensions?: Record<string, unknown> }[];
  };
  text: string;
};

export type RequestOptions = {
  token?: string;
  variables?: Record<string, unknown>;
  operationName?: string;
  headers?: Record<string, string>;
};

/** POSTs one GraphQL operation the way a client does. */
export async function execute(url: string, query: string, options: RequestOptions = {}): Promise<GraphQLResponse> {
  const headers: Record<string, string> = { 'content-type': 'application/json', ...options.headers };
  if (options.token !== undefined) headers['authorization'] = `Bearer ${options.token}`;
  const response = await fetch(url, {
    method: 'POST',
    headers,
    body: JSON.stringify({ query, variables: options.variables, operationName: options.operationName }),
  });
  const text = await response.text();
  return { status: response.status, headers: response.headers, body: JSON.parse(text) as GraphQLResponse['body'], text };
}

/** The error codes of a response, in order: the thing most tests assert on. */
export function codes(response: GraphQLResponse): unknown[] {
  return (response.body.errors ?? []).map((error) => error.extensions?.['code']);
}

/** A compact description for assertion messages. */
export function show(response: GraphQLResponse): string {
  return `HTTP ${response.status} ${response.text.slice(0, 800)}`;
}
