import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** The port is taken, most often by a server started earlier; the message says how to get out. */
export class PortInUseError extends Error {
  constructor(
    /** The variable that chose the port, so the hint can name it. */
    readonly variable: 'PORT' | 'METRICS_PORT',
    readonly host: string,
    readonly port: number,
    options?: { cause?: unknown },
  ) {
    super(
      `port ${port} on ${host} is already in use, perhaps by a server started earlier: stop that one, or set ${variable} to a free port, e.g. ${variable}=${port === 65535 ? port - 1 : port + 1}`,
      options,
    );
    this.name = 'PortInUseError';
  }
}

/** Starts listening; resolves with the port (the one chosen, for port 0). */
export function listen(server: Server, port: number, host: string, variable: PortInUseError['variable']): Promise<number> {
  return new Promise((resolve, reject) => {
    const failed = (error: NodeJS.ErrnoException) => reject(error.code === 'EADDRINUSE' ? new PortInUseError(variable, host, port, { cause: error }) : error);
    server.once('error', failed);
    server.listen(port, host, () => {
      server.off('error', failed);
      resolve((server.address() as AddressInfo).port);
    });
  });
}
