import dotenv from 'dotenv';
import { DevIssuer, devIssuerUrl, loadOrCreateSigningKey } from '../auth/dev-issuer.js';
import { ConfigError, loadConfig } from '../config.js';
import { parseTokenArgs, UsageError, USAGE } from './token-options.js';

// Entry point of `npm run token`: prints one dev access token on stdout.

dotenv.config({ quiet: true });

function fail(message: string, code: number): never {
  process.stderr.write(`token: ${message}\n`);
  process.exit(code);
}

try {
  const config = loadConfig(process.env);
  if (config.auth.issuer !== null) {
    fail('AUTHGEAR_ENDPOINT is set, so the server only accepts tokens from that issuer: get one from Authgear instead.', 1);
  }
  const command = parseTokenArgs(process.argv.slice(2), config.auth.clientIds?.[0]);
  if (command.help) {
    process.stdout.write(`${USAGE}\n`);
  } else {
    const issuer = new DevIssuer(devIssuerUrl(config.http.host, config.http.port), [await loadOrCreateSigningKey(config.devIssuerKeyDir)]);
    process.stdout.write(`${await issuer.mint(command.mint)}\n`);
  }
} catch (error) {
  if (error instanceof UsageError) fail(`${error.message}\nRun npm run token -- --help for the options.`, 2);
  if (error instanceof ConfigError) fail(error.message, 1);
  fail((error as Error).message, 1);
}
