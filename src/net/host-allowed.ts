/**
 * DNS-rebinding guard shared by every server we run (`/metrics`, the dashboard): a server bound
 * to a loopback address answers only requests whose Host names loopback (localhost, 127.0.0.1,
 * [::1]) or the bind address itself, so a web page elsewhere that rebinds its own name to
 * 127.0.0.1 is refused. A server bound to another address (0.0.0.0, a LAN address) was opened
 * on purpose to other machines and answers any Host: that is how a remote Prometheus gets in.
 */
import type { IncomingMessage } from 'node:http';
import net from 'node:net';

const LOOPBACK_NAMES = new Set(['localhost', '127.0.0.1', '[::1]']);

/**
 * `::1` → `[::1]`, as it appears in a Host header; names lower-cased. Only a name with a colon is
 * asked of `net.isIPv6`: its first call builds node's IPv6 pattern, 8 ms of the dashboard's first
 * answer (the page) in a profile, for a bind address that is almost always 127.0.0.1.
 */
function hostName(host: string): string {
  const lower = host.toLowerCase();
  return lower.includes(':') && net.isIPv6(lower) ? `[${lower}]` : lower;
}

function isLoopbackBind(bindHost: string): boolean {
  const name = hostName(bindHost);
  return LOOPBACK_NAMES.has(name) || /^127\.\d+\.\d+\.\d+$/.test(name);
}

/** Whether a request's Host header may reach a server bound to `bindHost`. */
export function hostAllowed(request: IncomingMessage, bindHost: string): boolean {
  if (!isLoopbackBind(bindHost)) return true;
  const host = (request.headers.host ?? '').replace(/:\d+$/, '').toLowerCase();
  return LOOPBACK_NAMES.has(host) || host === hostName(bindHost);
}
