// The Prometheus endpoint: GET /metrics on the configured address (off unless
// [agent] metrics_address is set; localhost is the default host). Read-only, no secrets.

import { type Server, createServer } from 'node:http';
import type { AgentStatus } from '../status-types.js';
import { EventLoopLag } from './process.js';
import { renderMetrics } from './render.js';

export async function startMetricsServer(host: string, port: number, status: () => AgentStatus, onError: (e: Error) => void): Promise<Server> {
  // Measured from the endpoint's start to its stop, read and reset by each scrape.
  const lag = new EventLoopLag();
  const server = createServer((req, res) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD' }).end();
      return;
    }
    const path = (req.url ?? '/').split('?')[0];
    if (path !== '/metrics') {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found: try /metrics\n');
      return;
    }
    let body: string;
    try {
      body = renderMetrics(status(), { eventLoopLagS: lag.takeMaxS() });
    } catch (e) {
      res.writeHead(500, { 'content-type': 'text/plain' }).end(`${e instanceof Error ? e.message : String(e)}\n`);
      return;
    }
    res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' }).end(req.method === 'HEAD' ? undefined : body);
  });
  server.keepAliveTimeout = 5000;
  server.once('close', () => lag.stop());
  await new Promise<void>((resolve, reject) => {
    const failed = (e: Error): void => {
      lag.stop();
      reject(e);
    };
    server.once('error', failed);
    server.listen(port, host, () => {
      server.off('error', failed);
      // Once listening, an error (EMFILE on accept, ...) must never take the agent down.
      server.on('error', (e) => onError(e));
      resolve();
    });
  });
  return server;
}

export async function stopMetricsServer(server: Server): Promise<void> {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
}
