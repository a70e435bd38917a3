/**
 * W&B offline sink: writes an offline run directory that the real
 * `wandb sync <run-dir>` uploads later (this package never talks to W&B servers).
 *
 * Records, in W&B's order: header → run (id, project, config, start_time) → environment →
 * history rows (train scalars, `eval/<name>` beside them) and stats records (system samples under
 * W&B's key names) as they come, with a summary update at every flush that changed a value → at
 * close a full summary, the exit record (the outcome's exit code, runtime) and the legacy final
 * record. A crash leaves no exit record, and sync marks the run failed, as it should.
 *
 * Each record is framed whole and appended with one write through AppendFile, which the
 * pipeline's flush clock writes off the training thread. The framer owns the file offset, since
 * W&B's 32 KiB blocks are counted from the start of the file.
 */
import { ConfigError, errnoCode, errorText } from '../../errors.js';
import type { Row } from '../../pipeline/row.js';
import type { RowSink, RunOutcome } from '../../pipeline/row-sink.js';
import type { SinkHealth } from '../../pipeline/sink-health.js';
import { AppendFile } from '../file/append-file.js';
import { HistoryEncoder } from './history-encoder.js';
import { HistoryRowAssembler, type HistoryRow } from './history-rows.js';
import { WANDB_FILE_HEADER, WandbLogEncoder } from './log-framing.js';
import { ProtoWriter } from '../codec/proto-writer.js';
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
  hostname?: string;
  /** Unix seconds; injectable for tests. */
  now?: () => number;
}

export class WandbExporter implements RowSink {
  readonly name = WANDB_SINK;
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
  private num = 0;
  /** Framed records waiting to be appended together (see commit()). */
  private batch: Buffer[] = [];
  private exitCode = 0;
  private ended = false;
  private shutdownPromise: Promise<void> | undefined;

  constructor(options: WandbExporterOptions) {
    if (!RUN_ID_PATTERN.test(options.runId)) {
      throw new ConfigError('runId', options.runId, '8 characters of [a-z0-9] (a W&B run id)');
    }
    if (!Number.isFinite(options.startTime) || options.startTime <= 0) {
      throw new ConfigError('startTime', options.startTime, 'Unix seconds > 0');
    }
    this.options = options;
    this.now = options.now ?? (() => Date.now() / 1000);
    this.layout = runLayout(options.dir, options.runId, options.startTime);
    options.health.register(WANDB_SINK);
    this.file = this.open();
    if (this.file === undefined) return;
    this.append(this.headerRecords());
    this.commit();
    try {
      pointLatestRun(options.dir, this.layout.runDir);
    } catch (error) {
      // The link is a convenience: the run itself is fine without it, so the sink stays up.
      options.health.warn(
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

  write(rows: readonly Row[]): void {
    if (this.ended || this.file === undefined || !this.file.up) return;
    for (const row of rows) {
      if (row.phase === 'system') this.writeStats(row);
      else {
        // A train row is held until the next step, so eval rows of the same step join it.
        const done = this.rows.add(row);
        if (done !== undefined) this.writeHistory(done);
      }
    }
    this.commit();
  }

  /**
   * Writes the held row and, when a value changed since the last one, a summary record, so a run
   * killed at any moment syncs with the summary of its last history row; then hands the bytes to
   * the kernel.
   */
  async flush(): Promise<void> {
    this.flushRecords();
    await this.file?.flush();
  }

  /** The same with blocking calls (process exit). Leaves the run open. */
  flushSync(): void {
    this.flushRecords();
    this.file?.flushSync();
  }

  /** Ends the run with the outcome's exit code: summary, exit record, side files, close. */
  close(outcome: RunOutcome): Promise<void> {
    this.shutdownPromise ??= (async () => {
      this.exitCode = outcome.exitCode;
      this.end();
      this.commit();
      await this.file?.close();
    })();
    return this.shutdownPromise;
  }

  /** The same for `process.on('exit')`, where no promise runs. */
  closeSync(outcome: RunOutcome): void {
    if (this.ended) {
      this.file?.flushSync();
      return;
    }
    this.exitCode = outcome.exitCode;
    this.end();
    this.commit();
    this.file?.flushSync();
  }

  private flushRecords(): void {
    if (!this.ended) {
      this.writeHeld();
      if (this.dirty.size > 0) this.writeSummary(false);
    }
    this.commit();
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

  private writeStats(row: Row): void {
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
    if (keys.length === 0) return;
    const update = keys.map((key) => ({
      key,
      value_json: valueJson(this.summary.get(key) as number | bigint),
    }));
    this.append([{ summary: { update } }]);
  }

  /** Closing records and side files; runs once, whichever of close/closeSync comes first. */
  private end(): void {
    if (this.ended) return;
    this.ended = true;
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
      this.options.health.warn(
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
