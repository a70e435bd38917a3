/**
 * /metrics checks Host the way the dashboard does: bound to loopback, it answers Host localhost,
 * 127.0.0.1, [::1] or the bind address, and refuses every other name (DNS rebinding). Bound to
 * another address, it answers any Host (a remote Prometheus).
 */
import http from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { PrometheusEndpoint } from '../../../src/exporters/prometheus/endpoint.js';

const endpoints: PrometheusEndpoint[] = [];
afterEach(async () => {
  for (const endpoint of endpoints.splice(0)) await endpoint.shutdown();
});

async function serve(host: string): Promise<number> {
  const endpoint = new PrometheusEndpoint({ withScopeInfo: false });
  endpoints.push(endpoint);
  const result = await endpoint.listen(host, 0);
  if (!result.ok) throw result.error;
  return result.port;
}

/** A GET with a Host header of our choosing (fetch() does not let us set one). */
function get(port: number, host: string, connectTo = '127.0.0.1'): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const request = http.get({ host: connectTo, port, path: '/metrics', headers: { host } }, (response) => {
      let body = '';
      response.setEncoding('utf8').on('data', (chunk: string) => (body += chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body }));
    });
    request.on('error', reject);
  });
}

describe('/metrics Host check', () => {
  it('/metrics answers any Host header: no longer, a loopback bind refuses a foreign Host with 403 and says how to open it', async () => {
    const port = await serve('127.0.0.1');
    const refused = await get(port, `rebind.example:${port}`);
    expect(refused.status).toBe(403);
    expect(refused.body).toMatch(/non-loopback/);
    for (const host of [`localhost:${port}`, `127.0.0.1:${port}`, `[::1]:${port}`, 'LOCALHOST'])
      expect((await get(port, host)).status, host).toBe(200);
  });

  it('answers the configured loopback address by name', async () => {
    const port = await serve('127.0.0.2');
    expect((await get(port, `127.0.0.2:${port}`, '127.0.0.2')).status).toBe(200);
    expect((await get(port, `evil.example`, '127.0.0.2')).status).toBe(403);
  });

  it('answers any Host when bound to a non-loopback address, for a Prometheus on another machine', async () => {
    const port = await serve('0.0.0.0');
    expect((await get(port, `prometheus-scraper.lan:${port}`)).status).toBe(200);
  });
});
