/**
 * The closing table of `demo` and `run`: one line per sink, `written` with where it went or `DOWN`
 * with the reason, so a run whose every file failed cannot pass for a good one.
 */
import fs from 'node:fs';
import { errnoCode } from '../errors.js';
import type { Telemetry } from '../telemetry.js';

/** Sinks that write files; a run with none of them written wrote nothing. */
const FILE_SINKS: ReadonlySet<string> = new Set(['ndjson', 'ndjson_eval', 'tensorboard', 'wandb']);

export interface SinkTable {
  text: string;
  /** At least one file sink stayed up and its output exists. */
  anyFileWritten: boolean;
  /** File sinks that went down (a full disk, a permission...), and whether every one did. */
  fileSinksDown: string[];
  allFileSinksDown: boolean;
  rows: { sink: string; state: 'written' | 'served' | 'up' | 'DOWN'; detail: string }[];
}

/** A file with bytes in it, or a folder holding one (TensorBoard logdir, W&B run folder). */
function wroteSomething(file: string): boolean {
  let stat: fs.Stats;
  try {
    stat = fs.statSync(file);
  } catch (error) {
    if (errnoCode(error) === 'ENOENT' || errnoCode(error) === 'ENOTDIR') return false;
    throw error;
  }
  if (!stat.isDirectory()) return stat.size > 0;
  return fs.readdirSync(file).some((name) => wroteSomething(`${file}/${name}`));
}

type TelemetryView = Pick<Telemetry, 'paths' | 'health'> & {
  config: Pick<Telemetry['config'], 'systemMetricsInterval'>;
};

/** Where the system samples went: every sink that takes rows, and /metrics while it served. */
function systemWhere(telemetry: TelemetryView): string {
  const into = ['ndjson', 'tensorboard', 'wandb', 'prometheus', 'otlp'].filter((sink) =>
    telemetry.health.isUp(sink),
  );
  const every = `every ${telemetry.config.systemMetricsInterval} s`;
  return into.length === 0 ? every : `${every}, into ${into.join(', ')}`;
}

export function sinkTable(telemetry: TelemetryView): SinkTable {
  const paths = telemetry.paths;
  const where: Record<string, string | undefined> = {
    ndjson: paths.metricsOut,
    ndjson_eval: paths.evalMetricsOut.length > 0 ? paths.evalMetricsOut.join(', ') : undefined,
    tensorboard:
      paths.tensorboardDir && `${paths.tensorboardDir}  (tensorboard --logdir ${paths.tensorboardDir})`,
    wandb: paths.wandbRunDir && `${paths.wandbRunDir}  (wandb sync ${paths.wandbRunDir})`,
    // The table is printed after shutdown: the endpoint served while the run lasted, and is closed now.
    prometheus: paths.metricsUrl && `${paths.metricsUrl}  (while the run lasted; closed now)`,
    system: systemWhere(telemetry),
  };
  const existsFor: Record<string, string | undefined> = {
    ndjson: paths.metricsOut,
    ndjson_eval: paths.evalMetricsOut[0],
    tensorboard: paths.tensorboardDir,
    wandb: paths.wandbRunDir,
  };
  const rows: SinkTable['rows'] = [];
  let anyFileWritten = false;
  for (const [sink, up] of telemetry.health.entries()) {
    // A sink that wrote part of its output before going down still wrote something.
    const file = existsFor[sink];
    if (FILE_SINKS.has(sink) && file !== undefined && wroteSomething(file)) anyFileWritten = true;
    if (!up) {
      rows.push({ sink, state: 'DOWN', detail: telemetry.health.reason(sink) ?? 'unknown reason' });
      continue;
    }
    if (FILE_SINKS.has(sink)) {
      const written = file !== undefined && fs.existsSync(file);
      rows.push({
        sink,
        state: written ? 'written' : 'DOWN',
        detail: written ? (where[sink] ?? '') : `nothing was written${file ? ` to ${file}` : ''}`,
      });
    } else {
      rows.push({ sink, state: sink === 'prometheus' ? 'served' : 'up', detail: where[sink] ?? '' });
    }
  }
  // A sink that dropped rows at its cap (stuck) says how many, whatever its state now.
  for (const row of rows) {
    const dropped = telemetry.health.dropped(row.sink);
    if (dropped > 0) row.detail += `  (${dropped} rows dropped while the sink was stuck)`;
  }
  for (const manifest of paths.manifests ?? [])
    rows.push({ sink: 'manifest', state: 'written', detail: manifest });
  const width = Math.max(4, ...rows.map((r) => r.sink.length)) + 2;
  const lines = [
    'sink'.padEnd(width) + 'state    where / why',
    ...rows.map((r) => `${r.sink.padEnd(width)}${r.state.padEnd(9)}${r.detail}`),
  ];
  const fileRows = rows.filter((r) => FILE_SINKS.has(r.sink) || r.sink.startsWith('ndjson_eval'));
  const fileSinksDown = fileRows.filter((r) => r.state === 'DOWN').map((r) => r.sink);
  const allFileSinksDown = fileRows.length > 0 && fileSinksDown.length === fileRows.length;
  return { text: `${lines.join('\n')}\n`, anyFileWritten, fileSinksDown, allFileSinksDown, rows };
}
