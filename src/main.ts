import dotenv from 'dotenv';
import { ConfigError, loadConfig, type Config } from './config.js';
import { createServer, DEV_USER, type RunningServer } from './server.js';

// The process entry: the only module with side effects.

dotenv.config({ quiet: true });

let config: Config;
try {
  config = loadConfig(process.env, { terminal: process.stdout.isTTY === true });
} catch (error) {
  if (!(error instanceof ConfigError)) throw error;
  for (const warning of error.warnings) process.stderr.write(`config warning: ${warning}\n`);
  for (const problem of error.problems) process.stderr.write(`config: ${problem}\n`);
  process.stderr.write('Fix these in the environment or in .env (see .env.example), then start again.\n');
  process.exit(1);
}
for (const warning of config.warnings) process.stderr.write(`config warning: ${warning}\n`);

let server: RunningServer;
try {
  server = await createServer(config);
} catch (error) {
  process.stderr.write(`Cannot start: ${(error as Error).message}\n`);
  process.exit(1);
}

let stopping = false;
async function shutdown(signal: NodeJS.Signals): Promise<void> {
  if (stopping) {
    server.logger.warn({ signal }, 'second signal: exiting without waiting');
    process.exit(1);
  }
  stopping = true;
  server.logger.info({ signal }, 'shutting down: finishing in-flight requests');
  try {
    await server.stop();
    process.exit(0);
  } catch (error) {
    server.logger.error({ err: error }, 'shutdown failed');
    process.exit(1);
  }
}
process.on('SIGTERM', (signal) => void shutdown(signal));
process.on('SIGINT', (signal) => void shutdown(signal));

// Printed once the signal handlers are in place: a SIGTERM sent on seeing it still shuts down gracefully.
if (server.devToken !== null) {
  const { url, issuer, devToken } = server;
  process.stdout.write(
    [
      '',
      `  GraphQL API   ${url}   (open it in a browser for Apollo Sandbox)`,
      `  Dev issuer    ${issuer}   local signing key in ${config.devIssuerKeyDir}/, NOT for production`,
      `  Dev token     ${DEV_USER.sub}, roles [${DEV_USER.roles.join(', ')}], verified, valid 24 h (already in Sandbox's headers):`,
      '',
      devToken,
      '',
      `  Try it        curl -s ${url} -H 'content-type: application/json' \\`,
      `                  -H "authorization: Bearer <token>" -d '{"query":"{ me { id roles } }"}'`,
      '  More tokens   npm run token -- --sub alice --verified      (npm run token -- --help)',
      '',
      '',
    ].join('\n'),
  );
}
