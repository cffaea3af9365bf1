import { makeExecutableSchema } from '@graphql-tools/schema';
import { graphql } from 'graphql';
import { applyMiddleware } from 'graphql-middleware';
import { chain, deny, race, rule, shield } from 'graphql-shield';
import { describe, expect, it } from 'vitest';

// graphql-shield 7.6.5 imports util.isUndefined, which Node 23 removed; the
// postinstall patch (scripts/patch-graphql-shield.mjs) replaces it. This
// file fails on Node 23+ if the patch is missing, and CI runs it on 20, 22, 24.

describe(`graphql-shield on Node ${process.version}`, () => {
  it('loads as ESM, and chain() and race() evaluate their rules', async () => {
    const yes = rule('yes')(() => true);
    const no = rule('no')(() => new Error('no'));
    const schema = applyMiddleware(
      makeExecutableSchema({
        typeDefs: 'type Query { chained: Int raced: Int refused: Int }',
        resolvers: { Query: { chained: () => 1, raced: () => 2, refused: () => 3 } },
      }),
      shield({ Query: { chained: chain(yes, yes), raced: race(no, yes), refused: chain(yes, no) } }, { fallbackRule: deny }),
    );
    const result = await graphql({ schema, source: '{ chained raced refused }', contextValue: {} });
    expect(result.data).toEqual({ chained: 1, raced: 2, refused: null });
    expect(result.errors?.map((e) => e.message)).toEqual(['no']);
  });
});
