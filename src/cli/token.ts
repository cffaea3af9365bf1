import dotenv from 'dotenv';
import { DEV_API_RESOURCE, DEV_SESSION_COOKIE, DevIssuer, devIssuerUrl, loadOrCreateSigningKey } from '../auth/dev-issuer.js';
import { ConfigError, loadConfig } from '../config.js';
import { parseTokenArgs, UsageError, USAGE, type ControlAction } from './token-options.js';

// Entry point of `npm run token`: prints one dev credential on stdout, or
// tells the running server's dev issuer to revoke a session or disable a user.

dotenv.config({ quiet: true });

function fail(message: string, code: number): never {
  process.stderr.write(`token: ${message}\n`);
  process.exit(code);
}

const CONTROL_PATHS: Record<ControlAction, (id: string) => string> = {
  'revoke-session': (id) => `/_dev/sessions/${encodeURIComponent(id)}/revoke`,
  'disable-user': (id) => `/_dev/users/${encodeURIComponent(id)}/disable`,
  'enable-user': (id) => `/_dev/users/${encodeURIComponent(id)}/enable`,
  'delete-user': (id) => `/_dev/users/${encodeURIComponent(id)}/delete`,
};

async function control(origin: string, action: ControlAction, id: string): Promise<string> {
  const url = `${origin}${CONTROL_PATHS[action](id)}`;
  let response: Response;
  try {
    response = await fetch(url, { method: 'POST', signal: AbortSignal.timeout(5000) });
  } catch {
    fail(`cannot reach the server at ${origin}: start it with npm start (same PORT/HOST) first.`, 1);
  }
  if (response.status !== 200) fail(`${url} answered HTTP ${response.status}: ${await response.text()}`, 1);
  return `${action}: ${id}\n`;
}

try {
  const config = loadConfig(process.env);
  for (const warning of config.warnings) process.stderr.write(`config warning: ${warning}\n`);
  if (config.auth.issuer !== null) {
    fail('AUTHGEAR_ENDPOINT is set, so the server only accepts tokens from that issuer: get one from Authgear instead.', 1);
  }
  const command = parseTokenArgs(process.argv.slice(2), config.auth.clientIds?.[0]);
  const origin = devIssuerUrl(config.http.host, config.http.port);
  if (command.kind === 'help') {
    process.stdout.write(`${USAGE}\n`);
  } else if (command.kind === 'control') {
    process.stdout.write(await control(origin, command.action, command.id));
  } else {
    const issuer = new DevIssuer(origin, [await loadOrCreateSigningKey(config.devIssuerKeyDir)]);
    if (command.kind === 'user') {
      process.stdout.write(`${await issuer.mint(command.mint)}\n`);
    } else if (command.kind === 'session') {
      const session = await issuer.mintSession(command.mint);
      process.stderr.write(`session id ${session.sessionId} (npm run token -- --revoke-session <cookie or id>)\n`);
      process.stdout.write(`${DEV_SESSION_COOKIE}=${session.cookie}\n`);
    } else {
      const { clientId, scopes, ttlSeconds } = command;
      process.stdout.write(`${await issuer.mintService({ clientId, scopes, ttlSeconds, audience: config.auth.apiResource ?? DEV_API_RESOURCE })}\n`);
    }
  }
} catch (error) {
  if (error instanceof UsageError) fail(`${error.message}\nRun npm run token -- --help for the options.`, 2);
  if (error instanceof ConfigError) {
    for (const warning of error.warnings) process.stderr.write(`config warning: ${warning}\n`);
    fail(error.message, 1);
  }
  fail((error as Error).message, 1);
}
