/** The dashboard server's bounds: stalled event-stream clients, the connection cap, wildcard URLs. */
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MAX_EVENT_BUFFER_BYTES } from '../../src/dashboard/http-handler.js';
import { MAX_CHANGED_NAMES } from '../../src/dashboard/series-store.js';
import {
  MAX_CONNECTIONS,
  reachableUrls,
  startDashboard,
  type RunningDashboard,
} from '../../src/dashboard/server.js';

let dir: string;
let dashboard: RunningDashboard | undefined;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bounded-server-'));
});
afterEach(async () => {
  await dashboard?.close();
  dashboard = undefined;
  fs.rmSync(dir, { recursive: true, force: true });
});

function connect(port: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1', () => resolve(socket));
    socket.on('error', reject);
  });
}

describe('a bounded dashboard server', () => {
  it('drops an event-stream client that stops reading once it leaves too much unread, and keeps serving', async () => {
    fs.writeFileSync(path.join(dir, 'metrics.ndjson'), '');
    dashboard = await startDashboard({ inputs: [dir], port: 0 });
    const stalled = await connect(dashboard.port);
    stalled.setNoDelay(true);
    stalled.write(`GET /api/events HTTP/1.1\r\nHost: 127.0.0.1:${dashboard.port}\r\n\r\n`);
    await new Promise((r) => setTimeout(r, 100));
    stalled.pause();
    const closed = new Promise<void>((resolve) => stalled.on('close', () => resolve()));
    // Change rounds naming as many long metrics as an event names: each message is about 300 KB.
    const names = Array.from({ length: MAX_CHANGED_NAMES }, (_, i) => `metric_${i}_${'x'.repeat(290)}`);
    const live = dashboard.live;
    for (let round = 0; round < 200 && live.droppedClients === 0; round++) {
      for (const name of names) live.store.touch(name);
      await live.tick();
    }
    expect(live.droppedClients).toBe(1);
    // The server closed it: the client sees the end once it reads again.
    stalled.resume();
    await closed;
    const answer = await fetch(`${dashboard.url}api/index`);
    expect(((await answer.json()) as { droppedClients: number }).droppedClients).toBe(1);
    expect(MAX_EVENT_BUFFER_BYTES).toBe(1 << 20);
  });

  it('closes connections past its cap as they arrive', async () => {
    fs.writeFileSync(path.join(dir, 'metrics.ndjson'), '');
    dashboard = await startDashboard({ inputs: [dir], port: 0 });
    const sockets = await Promise.all(
      Array.from({ length: MAX_CONNECTIONS }, () => connect(dashboard?.port as number)),
    );
    const extra = await connect(dashboard.port);
    const ended = await new Promise<boolean>((resolve) => {
      extra.on('close', () => resolve(true));
      setTimeout(() => resolve(false), 2000);
    });
    expect(ended).toBe(true);
    for (const socket of sockets) socket.destroy();
  });

  it('prints loopback and this machine’s addresses for a wildcard bind, never 0.0.0.0', () => {
    const urls = reachableUrls('0.0.0.0', 6006);
    expect(urls[0]).toBe('http://127.0.0.1:6006/');
    expect(urls).toContain(`http://${os.hostname()}:6006/`);
    expect(urls.some((url) => url.includes('0.0.0.0'))).toBe(false);
    expect(reachableUrls('127.0.0.1', 7)).toEqual(['http://127.0.0.1:7/']);
  });
});
