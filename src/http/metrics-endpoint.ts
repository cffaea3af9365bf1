import { createServer, type Server, type ServerResponse } from 'node:http';
import type { Metrics } from '../metrics.js';
import { sendError } from './respond.js';

/** Prometheus text format, from the server's own registry. */
export async function writeMetrics(metrics: Metrics, res: ServerResponse): Promise<void> {
  const body = await metrics.registry.metrics();
  res.writeHead(200, { 'content-type': metrics.registry.contentType });
  res.end(body);
}

/** METRICS_PORT: a server of its own that answers GET /metrics to any peer, and nothing else. */
export function createMetricsServer(metrics: Metrics): Server {
  return createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path === '/metrics' && (req.method === 'GET' || req.method === 'HEAD')) void writeMetrics(metrics, res);
    else sendError(res, 404, 'NOT_FOUND', 'This port serves GET /metrics only.');
  });
}
