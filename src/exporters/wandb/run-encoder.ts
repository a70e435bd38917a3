/**
 * The W&B run as bytes, with no file system access: rows in, framed `.wandb` records out. The
 * exporter around it owns the file, the clock and the side files.
 *
 * Records, in the SDK's order: header → run (id, project, config, start_time) → environment →
 * files → history rows and stats records as they come → after every batch of history, a summary
 * record of the keys that changed since the last one → at the end a full summary, a files record
 * for what appeared during the run, the exit record (code, runtime) and the legacy final record.
 *
 * Why a summary after every batch: wandb-core uploads the summary from summary records only (it
 * does not rebuild it from history), and the SDK writes one with every logged step. A batch is
 * appended as one write, so a run killed at any moment syncs with the summary of its last row.
 * Each summary also carries `_wandb.runtime` (whole seconds), as the SDK's does.
 */
import type { StepRow } from '../../step.js';
import { HistoryEncoder } from '../../formats/wandb/history-encoder.js';
import { HistoryRowAssembler, type HistoryRow } from '../../formats/wandb/history-rows.js';
import { WandbLogEncoder } from '../../formats/wandb/log-framing.js';
import { ProtoWriter } from '../../formats/codec/proto-writer.js';
import { encodeRecord } from '../../formats/wandb/record-codec.js';
import type { FilesRecord, KeyedItem, WandbRecord } from '../../formats/wandb/record-types.js';
import { environmentRecord, type HostFacts } from './side-files.js';
import { StatsKeyMapper } from './stats-keys.js';
import { formatUnixTimestamp } from '../../formats/wandb/timestamp.js';
import { numberJson, roundMicros, valueJson } from '../../formats/wandb/value-json.js';

const PRODUCER = 'codex-telemetry';

/** A row as the encoder takes it: a train/eval row becomes history, a system row a stats record. */
export type RunRow = Pick<StepRow, 'phase' | 'step' | 'ts' | 'names' | 'values'>;

export type RunFile = NonNullable<FilesRecord['files']>[number];

export interface RunEncoderOptions {
  runId: string;
  project?: string;
  entity?: string;
  displayName?: string;
  config?: Record<string, unknown>;
  tags?: string[];
  /** Unix seconds; anchors `_runtime`. */
  startTime: number;
  facts: HostFacts;
  /** Files under `files/` that exist when the run starts (the first files record). */
  files: readonly RunFile[];
}

export class WandbRunEncoder {
  private readonly options: RunEncoderOptions;
  private readonly framer = new WandbLogEncoder();
  private readonly writer = new ProtoWriter(1024);
  private readonly history = new HistoryEncoder();
  private readonly rows = new HistoryRowAssembler();
  private readonly statsKeys = new StatsKeyMapper();
  /** Latest value of every history key; `dirty` holds the keys changed since the last summary. */
  private readonly summary = new Map<string, number | bigint>();
  private readonly dirty = new Set<string>();
  private num = 0;
  private batch: Buffer[] = [];
  private ended = false;

  constructor(options: RunEncoderOptions) {
    this.options = options;
  }

  /** Records framed so far. */
  get recordCount(): number {
    return this.num;
  }

  /** Whether a history row is held back (the next row may still belong to its step). */
  get holding(): boolean {
    return this.rows.holding;
  }

  /** The opening records: header, run, environment, files. */
  begin(): Buffer {
    const { options } = this;
    const config: KeyedItem[] = Object.entries(options.config ?? {}).map(([key, value]) => ({
      key,
      value_json: configJson(value),
    }));
    const records: WandbRecord[] = [
      { header: { version_info: { producer: PRODUCER } } },
      {
        run: {
          run_id: options.runId,
          entity: options.entity,
          project: options.project,
          config: { update: [...config, { key: '_wandb', value_json: '{}' }] },
          display_name: options.displayName,
          tags: options.tags,
          host: options.facts.host,
          start_time: formatUnixTimestamp(options.startTime),
        },
      },
      {
        environment: environmentRecord(
          options.facts,
          options.startTime,
          `${options.facts.host}-${options.facts.pid}`,
        ),
      },
    ];
    if (options.files.length > 0) records.push({ files: { files: [...options.files] } });
    this.append(records);
    return this.take();
  }

  /** Encodes rows; a history row may be held until a later step arrives (see HistoryRowAssembler). */
  write(rows: readonly RunRow[]): void {
    if (this.ended) return;
    for (const row of rows) {
      if (row.phase === 'system') this.writeStats(row);
      else {
        const done = this.rows.add(row);
        if (done !== undefined) this.writeHistory(done);
      }
    }
  }

  /** Writes the held history row now (at a flush, or when held too long). */
  release(): void {
    const held = this.rows.take();
    if (held !== undefined) this.writeHistory(held);
  }

  /**
   * Everything framed since the last call, followed (unless `withSummary` is false) by a summary
   * record when a value changed: the summary travels in the same write as the history it summarises.
   */
  take(withSummary = true): Buffer {
    if (withSummary && !this.ended) this.writeSummary(false);
    const batch = this.batch;
    this.batch = [];
    if (batch.length === 1) return batch[0] as Buffer;
    return Buffer.concat(batch);
  }

  /**
   * The closing records: held row, full summary, a files record for `lateFiles` (files that
   * appeared during the run, e.g. `output.log`), exit and final. Later calls return nothing.
   */
  end(exitCode: number, runtime: number, lateFiles: readonly RunFile[]): Buffer {
    if (this.ended) return Buffer.alloc(0);
    this.release();
    this.writeSummary(true, runtime);
    this.ended = true;
    const records: WandbRecord[] = [];
    if (lateFiles.length > 0) records.push({ files: { files: [...lateFiles] } });
    records.push({ exit: { exit_code: exitCode, runtime } }, { final: {} });
    this.append(records);
    return this.take();
  }

  /**
   * Drops what was framed but not written and frames from `offset` on: the log was cut back to its
   * last whole record after a write fault, and the closing records go right after it.
   */
  resumeAt(offset: number): void {
    this.batch = [];
    this.framer.rewind(offset);
  }

  /** The summary as `wandb-summary.json` holds it, `_wandb.runtime` included. */
  summaryObject(runtime: number): Record<string, unknown> {
    const summary: Record<string, unknown> = Object.fromEntries(this.summary);
    summary._wandb = { runtime };
    return summary;
  }

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

  private writeStats(row: RunRow): void {
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

  /** A SummaryRecord: the keys changed since the last one, or every key (`full`), plus `_wandb.runtime`. */
  private writeSummary(full: boolean, runtime?: number): void {
    if (!full && this.dirty.size === 0) return;
    const keys = full ? [...this.summary.keys()] : [...this.dirty];
    this.dirty.clear();
    const update: KeyedItem[] = keys.map((key) => ({
      key,
      value_json: valueJson(this.summary.get(key) as number | bigint),
    }));
    const seconds = runtime ?? Math.max(0, Math.floor(Number(this.summary.get('_runtime') ?? 0)));
    update.push({ key: '_wandb', value_json: `{"runtime":${seconds}}` });
    this.append([{ summary: { update } }]);
  }
}

function configJson(value: unknown): string {
  if (typeof value === 'number' || typeof value === 'bigint') return valueJson(value);
  return (
    JSON.stringify(value, (_key, item: unknown) => (typeof item === 'bigint' ? item.toString() : item)) ??
    'null'
  );
}
