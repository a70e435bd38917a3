/**
 * W&B offline exporter: a PushMetricExporter writing an offline run directory that the real
 * `wandb sync <run-dir>` uploads later (this package never talks to W&B servers).
 *
 * Records, in W&B's order: header → run (id, project, config, start_time) → environment →
 * history rows (train scalars, `eval/<name>` beside them) and stats records (system samples under
 * W&B's key names) as they come, with summary updates now and then → at shutdown a full summary,
 * the exit record (code, runtime) and the legacy final record. A crash leaves no exit record, and
 * sync marks the run failed, as it should.
 *
 * Each record is framed whole and appended with one write through AppendFile, which flushes on a
 * timer off the training thread. The framer owns the file offset, since W&B's 32 KiB blocks are
 * counted from the start of the file.
 */
import { diag } from '@opentelemetry/api';
import { ExportResultCode, type ExportResult } from '@opentelemetry/core';
import { AggregationTemporality, type ResourceMetrics } from '@opentelemetry/sdk-metrics';
import { ConfigError, errnoCode, errorText } from '../../errors.js';
import type { StepRow } from '../../instruments/step-row.js';
import type { SinkHealth } from '../../pipeline/sink-health.js';
import { AppendFile } from '../file/append-file.js';
import type { FileSinkExporter } from '../file-sink.js';
import { decodeStepRows } from '../step-rows.js';
import { HistoryEncoder } from './history-encoder.js';
import { HistoryRowAssembler, type HistoryRow } from './history-rows.js';
import { WANDB_FILE_HEADER, WandbLogEncoder } from './log-framing.js';
import { ProtoWriter } from './proto-writer.js';
import { encodeRecord } from './record-codec.js';
import type { KeyedItem, WandbRecord } from './record-types.js';
import { RUN_ID_PATTERN, createRunLayout, pointLatestRun, runLayout, type RunLayout } from './run-dir.js';
import {
  environmentRecord,
  hostFacts,
  writeConfigYaml,
  writeMetadata,
  writeSummaryJson,
} from './side-files.js';
import { StatsKeyMapper } from './stats-keys.js';
import { formatUnixTimestamp } from './timestamp.js';
import { numberJson, roundMicros, valueJson } from './value-json.js';

export const WANDB_SINK = 'wandb';
const PRODUCER = 'codex-telemetry';
/** Seconds between summary updates while running: a crashed run still shows recent values. */
const DEFAULT_SUMMARY_INTERVAL_MS = 10_000;
/** A held history row is written after this long even if no later step arrives. */
const MAX_HOLD_MS = 5_000;

export interface WandbExporterOptions {
  /** The W&B directory (WANDB_DIR, or `<out>/wandb`); the run directory goes inside it. */
  dir: string;
  /** 8 characters of [a-z0-9]. */
  runId: string;
  project?: string;
  entity?: string;
  displayName?: string;
  config?: Record<string, unknown>;
  tags?: string[];
  /** Unix seconds; names the directory and anchors `_runtime`. */
  startTime: number;
  health: SinkHealth;
  flushIntervalMs?: number;
  hostname?: string;
  summaryIntervalMs?: number;
  /** Unix seconds; injectable for tests. */
  now?: () => number;
}

export class WandbExporter implements FileSinkExporter {
  readonly sinkName = WANDB_SINK;
  readonly layout: RunLayout;
  private readonly options: WandbExporterOptions;
  private readonly now: () => number;
  private readonly file: AppendFile | undefined;
  private readonly framer = new WandbLogEncoder();
  private readonly writer = new ProtoWriter(1024);
  private readonly history = new HistoryEncoder();
  private readonly rows = new HistoryRowAssembler();
  private readonly statsKeys = new StatsKeyMapper();
  /** Latest value of every history key, for summary records; `dirty` holds keys changed since the last one. */
  private readonly summary = new Map<string, number | bigint>();
  private readonly dirty = new Set<string>();
  private readonly summaryIntervalMs: number;
  private lastSummaryMs = Date.now();
  private heldSinceMs = 0;
  private num = 0;
  /** Framed records waiting to be appended together (see commit()). */
  private batch: Buffer[] = [];
  private exitCode = 0;
  private ended = false;
  private shutdownPromise: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;

  constructor(options: WandbExporterOptions) {
    if (!RUN_ID_PATTERN.test(options.runId)) {
      throw new ConfigError('runId', options.runId, '8 characters of [a-z0-9] (a W&B run id)');
    }
    if (!Number.isFinite(options.startTime) || options.startTime <= 0) {
      throw new ConfigError('startTime', options.startTime, 'Unix seconds > 0');
    }
    this.options = options;
    this.now = options.now ?? (() => Date.now() / 1000);
    this.summaryIntervalMs = options.summaryIntervalMs ?? DEFAULT_SUMMARY_INTERVAL_MS;
    this.layout = runLayout(options.dir, options.runId, options.startTime);
    options.health.register(WANDB_SINK);
    this.file = this.open();
    if (this.file === undefined) return;
    this.append(this.headerRecords());
    this.commit();
    this.timer = setInterval(() => {
      if (this.ended) return;
      try {
        this.writeDue();
      } catch (error) {
        // Never throw out of a timer; the next export or shutdown tries again.
        diag.error('codex-telemetry: wandb periodic write failed', error);
      }
    }, MAX_HOLD_MS);
    this.timer.unref();
    try {
      pointLatestRun(options.dir, this.layout.runDir);
    } catch (error) {
      // The link is a convenience: the run itself is fine without it.
      diag.warn(
        `codex-telemetry: cannot point ${options.dir}/latest-run at the run (${describeError(error)})`,
      );
    }
  }

  /** Directory to pass to `wandb sync`. */
  get runDir(): string {
    return this.layout.runDir;
  }

  /** Records written so far (for reports and tests). */
  get recordCount(): number {
    return this.num;
  }

  /** The exit code the run will end with (0 unless set; non-zero on signals and uncaught errors). */
  setExitCode(code: number): void {
    this.exitCode = code;
  }

  export(metrics: ResourceMetrics, resultCallback: (result: ExportResult) => void): void {
    if (this.ended || this.file === undefined || !this.file.up) {
      resultCallback({ code: ExportResultCode.FAILED, error: new Error('wandb sink is not writable') });
      return;
    }
    for (const row of decodeStepRows(metrics)) {
      if (row.phase === 'system') this.writeStats(row);
      else {
        if (!this.rows.holding) this.heldSinceMs = Date.now();
        const done = this.rows.add(row);
        if (done !== undefined) {
          this.writeHistory(done);
          this.heldSinceMs = Date.now();
        }
      }
    }
    this.writeDue();
    resultCallback({ code: ExportResultCode.SUCCESS });
  }

  /** Writes a row held too long and a summary update when due; also run from the timer, since an idle reader exports nothing. */
  private writeDue(): void {
    const nowMs = Date.now();
    if (this.rows.holding && nowMs - this.heldSinceMs >= MAX_HOLD_MS) this.writeHeld();
    if (this.dirty.size > 0 && nowMs - this.lastSummaryMs >= this.summaryIntervalMs) this.writeSummary(false);
    this.commit();
  }

  async forceFlush(): Promise<void> {
    if (!this.ended) {
      this.writeHeld();
      if (this.dirty.size > 0) this.writeSummary(false);
    }
    this.commit();
    await this.file?.flush();
  }

  /** Writes what is encoded, with blocking calls (process exit). Leaves the run open. */
  flushSync(): void {
    if (!this.ended) this.writeHeld();
    this.commit();
    this.file?.flushSync();
  }

  /**
   * Ends the run synchronously, for `process.on('exit')` where no promise runs: summary, exit
   * record with `exitCode` (or the one set before), side files, blocking flush.
   */
  finishSync(exitCode?: number): void {
    if (exitCode !== undefined) this.exitCode = exitCode;
    this.end();
    this.commit();
    this.file?.flushSync();
  }

  shutdown(): Promise<void> {
    this.shutdownPromise ??= (async () => {
      this.end();
      this.commit();
      await this.file?.close();
    })();
    return this.shutdownPromise;
  }

  selectAggregationTemporality(): AggregationTemporality {
    return AggregationTemporality.DELTA;
  }

  private open(): AppendFile | undefined {
    try {
      createRunLayout(this.layout);
      writeMetadata(this.layout.filesDir, hostFacts(this.options.hostname), this.options.startTime);
      if (this.options.config !== undefined) writeConfigYaml(this.layout.filesDir, this.options.config);
    } catch (error) {
      if (errnoCode(error) === undefined) throw error;
      this.options.health.markDown(
        WANDB_SINK,
        `cannot create ${this.layout.runDir} (${describeError(error)}); check WANDB_DIR, permissions and free space`,
      );
      return undefined;
    }
    const file = new AppendFile({
      path: this.layout.logPath,
      sink: WANDB_SINK,
      health: this.options.health,
      flushIntervalMs: this.options.flushIntervalMs,
      header: WANDB_FILE_HEADER,
      truncate: true,
    });
    return file.up ? file : undefined;
  }

  private headerRecords(): WandbRecord[] {
    const { options } = this;
    const facts = hostFacts(options.hostname);
    const config: KeyedItem[] = Object.entries(options.config ?? {}).map(([key, value]) => ({
      key,
      value_json: configJson(value),
    }));
    return [
      { header: { version_info: { producer: PRODUCER } } },
      {
        run: {
          run_id: options.runId,
          entity: options.entity,
          project: options.project,
          config: { update: [...config, { key: '_wandb', value_json: '{}' }] },
          display_name: options.displayName,
          tags: options.tags,
          host: facts.host,
          start_time: formatUnixTimestamp(options.startTime),
        },
      },
      { environment: environmentRecord(facts, options.startTime, `${facts.host}-${process.pid}`) },
    ];
  }

  /** Encodes and appends records through the schema-driven encoder (everything but history). */
  private append(records: WandbRecord[]): void {
    for (const record of records) {
      record.num = ++this.num;
      this.batch.push(this.framer.encode(encodeRecord(record, this.writer)));
    }
  }

  private writeHistory(row: HistoryRow): void {
    const count = row.keys.length;
    const keys = new Array<string>(count + 3);
    const values = new Array<string>(count + 3);
    const runtime = roundMicros(row.ts - this.options.startTime);
    const timestamp = roundMicros(row.ts);
    keys[0] = '_step';
    values[0] = valueJson(row.step);
    keys[1] = '_runtime';
    values[1] = numberJson(runtime);
    keys[2] = '_timestamp';
    values[2] = numberJson(timestamp);
    this.remember('_step', row.step);
    this.remember('_runtime', runtime);
    this.remember('_timestamp', timestamp);
    for (let i = 0; i < count; i++) {
      const key = row.keys[i] as string;
      const value = row.values[i] as number | bigint;
      keys[i + 3] = key;
      values[i + 3] = valueJson(value);
      this.remember(key, value);
    }
    this.num++;
    this.batch.push(this.history.encode(this.framer, this.num, row.step, keys, values));
  }

  /**
   * Appends the records framed since the last call as one chunk: whole records only, so a torn
   * write can still only tear the last one, and one queue entry per collection instead of one per
   * record keeps AppendFile's bookkeeping off the profile.
   */
  private commit(): void {
    const batch = this.batch;
    if (batch.length === 0) return;
    this.batch = [];
    this.file?.append(batch.length === 1 ? (batch[0] as Buffer) : Buffer.concat(batch));
  }

  private writeHeld(): void {
    const held = this.rows.take();
    if (held !== undefined) this.writeHistory(held);
  }

  private writeStats(row: StepRow): void {
    const item = new Array<{ key: string; value_json: string }>(row.names.length);
    for (let i = 0; i < row.names.length; i++) {
      const { key, scale } = this.statsKeys.map(row.names[i] as string);
      item[i] = { key, value_json: numberJson((row.values[i] as number) * scale) };
    }
    this.append([{ stats: { timestamp: formatUnixTimestamp(row.ts), item } }]);
  }

  private remember(key: string, value: number | bigint): void {
    this.summary.set(key, value);
    this.dirty.add(key);
  }

  /** A SummaryRecord: only the keys changed since the last one, or every key (`full`). */
  private writeSummary(full: boolean): void {
    const keys = full ? [...this.summary.keys()] : [...this.dirty];
    this.dirty.clear();
    this.lastSummaryMs = Date.now();
    if (keys.length === 0) return;
    const update = keys.map((key) => ({
      key,
      value_json: valueJson(this.summary.get(key) as number | bigint),
    }));
    this.append([{ summary: { update } }]);
  }

  /** Closing records and side files; runs once, whichever of shutdown/finishSync comes first. */
  private end(): void {
    if (this.ended) return;
    this.ended = true;
    if (this.timer) clearInterval(this.timer);
    if (this.file === undefined || !this.file.up) return;
    this.writeHeld();
    this.writeSummary(true);
    const runtime = Math.max(0, Math.round(this.now() - this.options.startTime));
    this.append([{ exit: { exit_code: this.exitCode, runtime } }, { final: {} }]);
    try {
      const summary: Record<string, unknown> = Object.fromEntries(this.summary);
      summary._wandb = { runtime };
      writeSummaryJson(this.layout.filesDir, summary);
    } catch (error) {
      if (errnoCode(error) === undefined) throw error;
      diag.warn(
        `codex-telemetry: cannot write ${this.layout.filesDir}/wandb-summary.json (${describeError(error)})`,
      );
    }
  }
}

function configJson(value: unknown): string {
  if (typeof value === 'number' || typeof value === 'bigint') return valueJson(value);
  return (
    JSON.stringify(value, (_key, item: unknown) => (typeof item === 'bigint' ? item.toString() : item)) ??
    'null'
  );
}

function describeError(error: unknown): string {
  return errorText(error);
}
