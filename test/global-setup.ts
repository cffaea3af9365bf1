// Runs once in the main Vitest process, where its output is not captured.
export default function setup(): void {
  if (process.env['TEST_DATABASE_URL'] === undefined) {
    console.warn(
      '\nTEST_DATABASE_URL is unset: the tests of the PostgreSQL-server adapter are skipped (PGlite runs the same SQL).\n' +
        'Set it to a server you can create databases on, e.g. TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/test\n',
    );
  }
}
