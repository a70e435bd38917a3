/**
 * What the dashboard answers without its runs: a refused Host name or method, and the page (its
 * script and stylesheet inline). Its own small module, so a server can answer these while the modules that read
 * runs are still loading (server.ts).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { CONTENT_SECURITY_POLICY, livePage, MISSING_ASSETS } from './assets.js';
import { hostAllowed } from '../net/host-allowed.js';

export const TEXT = 'text/plain; charset=utf-8';

export function send(
  response: ServerResponse,
  status: number,
  type: string,
  body: string | Buffer,
  head = false,
  policy = CONTENT_SECURITY_POLICY,
): void {
  response.writeHead(status, {
    'content-type': type,
    'content-length': Buffer.byteLength(body),
    'content-security-policy': policy,
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer',
    'cache-control': 'no-store',
  });
  response.end(head ? undefined : body);
}

/**
 * Answers a request from a Host a loopback-bound server refuses (403), a method other than GET or
 * HEAD (405), the page; false for anything else (the API, `/files/`).
 */
export function pageRoute(request: IncomingMessage, response: ServerResponse, host: string): boolean {
  if (!hostAllowed(request, host)) {
    send(response, 403, TEXT, 'this dashboard answers only to localhost\n');
    return true;
  }
  const head = request.method === 'HEAD';
  if (request.method !== 'GET' && !head) {
    response.setHeader('allow', 'GET, HEAD');
    send(response, 405, TEXT, 'the dashboard is read-only\n');
    return true;
  }
  const [pathname = '/'] = (request.url ?? '/').split('?', 1);
  switch (pathname) {
    case '/':
    case '/index.html': {
      const page = livePage();
      if (page === undefined) send(response, 503, TEXT, `${MISSING_ASSETS}\n`, head);
      else send(response, 200, 'text/html; charset=utf-8', page.html, head, page.policy);
      return true;
    }
  }
  return false;
}
