import { counter } from './proc-parse-error.js';

export interface NetCounters {
  readonly recvBytes: number;
  readonly sentBytes: number;
}

/**
 * /proc/net/dev: two header lines, then `iface: rx_bytes rx_packets ... (8 receive columns) tx_bytes ...`.
 * The loopback interface is left out: its traffic never leaves the host.
 */
export function parseNetDev(text: string, file = '/proc/net/dev'): Map<string, NetCounters> {
  const interfaces = new Map<string, NetCounters>();
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    const colon = line.indexOf(':');
    // Header lines contain '|' and no colon; a large counter can touch the colon (`eth0:123`).
    if (colon < 0 || line.includes('|')) continue;
    const name = line.slice(0, colon).trim();
    if (name === 'lo') continue;
    const fields = line
      .slice(colon + 1)
      .trim()
      .split(/\s+/);
    interfaces.set(name, {
      recvBytes: counter(fields[0], file, i + 1, `${name}.rx_bytes`),
      sentBytes: counter(fields[8], file, i + 1, `${name}.tx_bytes`),
    });
  }
  return interfaces;
}
