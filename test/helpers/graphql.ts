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

/**
 * A security review's nested fragment spreads: T2 spreads T1 71 times, T1
 * spreads T0 71 times, about 300 tokens that a cost estimator walks as more
 * than 10,000 selections. `selection` rides along in the operation.
 */
export function fragmentBomb(selection: string, width = 71): string {
  const spreads = (name: string) => Array.from({ length: width }, () => `...${name}`).join(' ');
  return `query Bomb { ${selection} ...T2 } fragment T0 on Query { __typename } fragment T1 on Query { ${spreads('T0')} } fragment T2 on Query { ${spreads('T1')} }`;
}

/** A page that asks for one leaf field under many aliases: cheap to ask for, large to answer. */
export function wideLeafPage(first: number, aliases = 15, field = 'body'): string {
  return `{ myNotes(first: ${first}) { edges { node { ${Array.from({ length: aliases }, (_, i) => `b${i}: ${field}`).join(' ')} } } } }`;
}
