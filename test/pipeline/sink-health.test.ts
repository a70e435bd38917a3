/**
 * SinkHealth directly: the state behind `codex_sink_up` and the once-per-failure warning.
 */
import { diag, DiagLogLevel, type DiagLogger } from '@opentelemetry/api';
import { afterEach, describe, expect, it } from 'vitest';
import { defaultWarn, SinkHealth } from '../../src/health.js';

function recordingDiag(): { debug: string[]; info: string[] } {
  const lines = { debug: [] as string[], info: [] as string[] };
  const logger: DiagLogger = {
    error: () => undefined,
    warn: () => undefined,
    // Only our lines: the API logs its own registration at debug level.
    info: (message) => void (message.startsWith('codex-telemetry') && lines.info.push(message)),
    debug: (message) => void (message.startsWith('codex-telemetry') && lines.debug.push(message)),
    verbose: () => undefined,
  };
  diag.setLogger(logger, { logLevel: DiagLogLevel.ALL, suppressOverrideMessage: true });
  return lines;
}
afterEach(() => diag.disable());

describe('SinkHealth', () => {
  it('knows no sink before it registers: not up, no reason, no entry', () => {
    const health = new SinkHealth(() => undefined);
    expect(health.isUp('ndjson')).toBe(false);
    expect(health.reason('ndjson')).toBeUndefined();
    expect(health.entries()).toEqual([]);
  });

  it('registers sinks as up, listed in registration order', () => {
    const health = new SinkHealth(() => undefined);
    health.register('wandb');
    health.register('ndjson');
    expect(health.isUp('wandb')).toBe(true);
    expect(health.entries()).toEqual([
      ['wandb', true],
      ['ndjson', true],
    ]);
  });

  it('warns once with the sink and reason when a sink goes down, and keeps the first reason', () => {
    const warnings: string[] = [];
    const debug = recordingDiag().debug;
    const health = new SinkHealth((message) => warnings.push(message));
    health.register('ndjson');
    health.register('tensorboard');
    expect(health.markDown('ndjson', 'write failed (ENOSPC)')).toBe(true);
    expect(health.markDown('ndjson', 'flush failed (EIO)')).toBe(false);
    expect(warnings).toEqual([
      'codex-telemetry: ndjson sink disabled: write failed (ENOSPC). Training continues; other sinks keep writing.',
    ]);
    expect(debug).toEqual(['codex-telemetry: sink ndjson still down: flush failed (EIO)']);
    expect(health.isUp('ndjson')).toBe(false);
    expect(health.reason('ndjson')).toBe('write failed (ENOSPC)');
    expect(health.entries()).toEqual([
      ['ndjson', false],
      ['tensorboard', true],
    ]);
  });

  it('registering a sink that is down again leaves it down', () => {
    const health = new SinkHealth(() => undefined);
    health.register('ndjson');
    health.markDown('ndjson', 'gone');
    health.register('ndjson');
    expect(health.isUp('ndjson')).toBe(false);
    expect(health.reason('ndjson')).toBe('gone');
  });

  it('marks a sink it never saw as down, warning, so a source that fails before registering is still visible', () => {
    const warnings: string[] = [];
    const health = new SinkHealth((message) => warnings.push(message));
    expect(health.markDown('nvml', 'library not found')).toBe(true);
    expect(health.entries()).toEqual([['nvml', false]]);
    expect(warnings).toHaveLength(1);
  });

  it('a recovered sink is up with no reason, says so once, and its next failure warns again', () => {
    const warnings: string[] = [];
    const info = recordingDiag().info;
    const health = new SinkHealth((message) => warnings.push(message));
    health.register('otlp');
    health.markUp('otlp');
    expect(info).toEqual([]);
    health.markDown('otlp', 'ECONNREFUSED');
    health.markUp('otlp');
    expect(info).toEqual(['codex-telemetry: otlp sink recovered']);
    expect(health.isUp('otlp')).toBe(true);
    expect(health.reason('otlp')).toBeUndefined();
    expect(health.markDown('otlp', 'timeout')).toBe(true);
    expect(warnings).toHaveLength(2);
    expect(warnings[1]).toContain('otlp sink disabled: timeout');
  });

  it('markUp of a sink it never saw registers it as up without a recovery line', () => {
    const info = recordingDiag().info;
    const health = new SinkHealth(() => undefined);
    health.markUp('prometheus');
    expect(health.entries()).toEqual([['prometheus', true]]);
    expect(info).toEqual([]);
  });

  it('passes degradation warnings that leave the sink up straight to the warn function', () => {
    const warnings: string[] = [];
    const health = new SinkHealth((message) => warnings.push(message));
    health.register('ndjson');
    health.warn('gzip of a segment failed');
    expect(warnings).toEqual(['gzip of a segment failed']);
    expect(health.isUp('ndjson')).toBe(true);
  });

  it('warns through process warnings with code CODEX_TELEMETRY by default', async () => {
    const seen = new Promise<Error & { code?: string }>((resolve) => process.once('warning', resolve));
    const health = new SinkHealth();
    health.markDown('ndjson', 'disk full');
    const warning = await seen;
    expect(warning.code).toBe('CODEX_TELEMETRY');
    expect(warning.message).toContain('ndjson sink disabled: disk full');
    expect(defaultWarn).toBeTypeOf('function');
  });
});
