import net from 'node:net';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { startTelemetry } from '../../src/telemetry.js';

/** Bounded in count and time, loopback only: stops by itself. */
const CONCURRENT_SCRAPERS = 32;
const SCRAPES_EACH = 10;
const SLOW_CLIENTS = 20;
const GARBAGE_CLIENTS = 20;

function slowClient(port: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    const request = 'GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\n';
    let sent = 0;
    const timer = setInterval(() => {
      if (sent < request.length) socket.write(request[sent++] as string);
    }, 20);
    const finish = (): void => {
      clearInterval(timer);
      socket.destroy();
      resolve();
    };
    socket.on('error', finish);
    signal.addEventListener('abort', finish, { once: true });
  });
}

function garbageClient(port: number): Promise<string> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1', () =>
      socket.end(Buffer.from('\x00\xff GARBAGE / HTTP/9.9\r\n\r\n\x01\x02')),
    );
    let answer = '';
    socket.on('data', (chunk) => (answer += chunk.toString('latin1')));
    socket.on('close', () => resolve(answer));
    socket.on('error', () => resolve(answer));
    socket.setTimeout(5000, () => socket.destroy());
  });
}

describe('the Prometheus endpoint under load', () => {
  it('keeps answering concurrent scrapes while slow and malformed clients hang on, and training keeps logging', async () => {
    const outDir = fs.mkdtempSync(path.join(os.tmpdir(), 'codex-promload-'));
    const telemetry = await startTelemetry(
      { outDir, systemMetricsInterval: 0, installExitHandlers: false, prometheus: true, prometheusPort: 0 },
      { env: {}, info: () => undefined },
    );
    const url = telemetry.paths.metricsUrl as string;
    const port = Number(new URL(url).port);
    const stopSlow = new AbortController();
    const slow = Array.from({ length: SLOW_CLIENTS }, () => slowClient(port, stopSlow.signal));
    const garbage = Promise.all(Array.from({ length: GARBAGE_CLIENTS }, () => garbageClient(port)));

    let step = 0;
    let training = true;
    const trainer = (async () => {
      while (training) {
        telemetry.log({ loss: 1 / (step + 1), lr: 3e-4 }, { step: step++ });
        await new Promise((resolve) => setImmediate(resolve));
      }
    })();
    const statuses: number[] = [];
    await Promise.all(
      Array.from({ length: CONCURRENT_SCRAPERS }, async () => {
        for (let i = 0; i < SCRAPES_EACH; i++) {
          const response = await fetch(url);
          const body = await response.text();
          statuses.push(response.status);
          expect(body).toMatch(/^loss\{phase="train"\} /m);
        }
      }),
    );
    const stepsDuringScrapes = step;
    training = false;
    await trainer;
    const garbageAnswers = await garbage;
    stopSlow.abort();
    await Promise.all(slow);
    await telemetry.shutdown();
    fs.rmSync(outDir, { recursive: true, force: true });

    expect(statuses).toHaveLength(CONCURRENT_SCRAPERS * SCRAPES_EACH);
    expect(statuses.every((status) => status === 200)).toBe(true);
    // Malformed requests get an HTTP 400 from Node's parser, not a hang or a crash.
    expect(garbageAnswers.every((answer) => answer === '' || answer.startsWith('HTTP/1.1 400'))).toBe(true);
    // The loop kept stepping while 320 scrapes were served (no stall), whatever the machine speed.
    expect(stepsDuringScrapes).toBeGreaterThan(CONCURRENT_SCRAPERS);
  });
});
