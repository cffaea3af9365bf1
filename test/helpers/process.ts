import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));

export type Spawned = {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  exited: Promise<number | null>;
  /** Resolves with stdout once it matches, rejects if the process exits first or time runs out. */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
};

/** Runs a TypeScript entry point of this project as its own Node process. */
export function runEntry(entry: string, args: string[], env: Record<string, string | undefined>): Spawned {
  const child = spawn(process.execPath, ['--import', 'tsx', entry, ...args], {
    cwd: ROOT,
    env: { PATH: process.env['PATH'], ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout?.on('data', (chunk: Buffer) => (out += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (err += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return {
    child,
    stdout: () => out,
    stderr: () => err,
    exited,
    waitFor(pattern, timeoutMs = 20_000) {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`timed out waiting for ${pattern}\nstdout:\n${out}\nstderr:\n${err}`)), timeoutMs);
        const check = () => {
          const match = out.match(pattern);
          if (match) {
            clearTimeout(timer);
            child.stdout?.off('data', check);
            resolve(match);
          }
        };
        child.stdout?.on('data', check);
        void exited.then((code) => {
          clearTimeout(timer);
          reject(new Error(`exited with ${code} before ${pattern}\nstdout:\n${out}\nstderr:\n${err}`));
        });
        check();
      });
    },
  };
}

/** A loopback port that was free a moment ago, for a process that must be told its port. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer().listen(0, '127.0.0.1', () => {
      const address = probe.address();
      probe.close(() => (typeof address === 'object' && address !== null ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

export type Replica = { process: Spawned; url: string };

/**
 * Server processes (src/main.ts) on loopback, as replicas of one API: the
 * same env each, a port each; resolves once every one says it started.
 */
export async function startReplicas(count: number, env: Record<string, string>): Promise<Replica[]> {
  const replicas: Replica[] = [];
  for (let i = 0; i < count; i++) {
    const port = await freePort();
    const process = runEntry('src/main.ts', [], { NODE_ENV: 'test', HOST: '127.0.0.1', LOG_LEVEL: 'info', ...env, PORT: String(port) });
    replicas.push({ process, url: `http://127.0.0.1:${port}/graphql` });
  }
  try {
    await Promise.all(replicas.map(({ process }) => process.waitFor(/"msg":"server started"/, 30_000)));
  } catch (error) {
    stopReplicas(replicas);
    throw error;
  }
  return replicas;
}

export function stopReplicas(replicas: readonly Replica[]): void {
  for (const { process } of replicas) if (process.child.exitCode === null) process.child.kill('SIGKILL');
}
