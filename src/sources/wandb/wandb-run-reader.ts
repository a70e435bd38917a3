/**
 * Reads one W&B offline run (`offline-run-*` or `run-*`, or its `run-<id>.wandb` named directly)
 * into a RunSink, following the log as the SDK writes it:
 *
 * - history rows: every number under its key as W&B shows it (`train.acc.top1`), at the row's
 *   `_step`, timed by its `_timestamp`; strings, media and other objects are named as not shown;
 * - system stats rows: the system phase, under W&B's own key names;
 * - run record, config and summary records: name, id, config and the summary as W&B keeps them;
 * - exit record: exit code and state (finished for 0, failed otherwise); none means crashed, or
 *   still running while the log grows.
 *
 * Damage: a torn last record waits for the writer (`finish()` reports it); a corrupt chunk is
 * reported with file and byte offset and reading goes on at the next 32 KiB block, as LevelDB's
 * reader does; a record that does not decode is reported and skipped.
 */
import fs from 'node:fs';
import { openIfExists } from '../../files/open-existing.js';
import path from 'node:path';
import { errnoCode, errorText } from '../../errors.js';
import { ProtoDecodeError } from '../../formats/codec/proto-reader.js';
import { BLOCK_BYTES } from '../../formats/wandb/log-framing.js';
import { scanWandbLogFrom } from '../../formats/wandb/log-scan.js';
import { decodeRecord } from '../../formats/wandb/record-codec.js';
import type { StatsRecord, WandbRecord } from '../../formats/wandb/record-types.js';
import { listDir } from '../../ndjson/glob.js';
import { PHASE_SYSTEM } from '../../ndjson/line/metric-visitor.js';
import { phaseOf, type LiveRunReader, type RunInfo, type RunSink } from '../run-source.js';
import { NameTable } from '../../ndjson/line/name-table.js';
import { KeyedRecordDecoder, type KeyedItems } from './keyed-records.js';
import { applyItems, keyOf, parseValueJson } from './wandb-values.js';
import { WANDB_LOG } from '../run-files.js';

export const WANDB_RUN_DIR = /^(offline-)?run-/;
/** The most read in one call; a record longer than that makes the read grow to hold it. */
export const MAX_READ_BYTES = 64 << 20;

/** The `.wandb` log of a run folder, or undefined when it holds none. */
export function logOfRunDir(dir: string): string | undefined {
  const log = listDir(dir).find((entry) => entry.isFile() && WANDB_LOG.test(entry.name));
  return log === undefined ? undefined : path.join(dir, log.name);
}

/** Where a reader stopped, so a later reader of the same log goes on from there (see wandb-index.ts). */
export interface WandbResumeState {
  /** Offset of the next record, and whether it is a block boundary reached after damage (LevelDB's resync). */
  next: number;
  resync: boolean;
  records: number;
  rows: number;
  info: Pick<RunInfo, 'name' | 'id' | 'state' | 'exitCode'>;
  config: Record<string, unknown>;
  summary: Record<string, unknown>;
  notShown: Array<[string, string]>;
}

export interface WandbRunOptions {
  /** The run folder or its `.wandb` file. */
  path: string;
  /** Shown until the run record names the run. */
  name: string;
  sink: RunSink;
}

export class WandbRunReader implements LiveRunReader {
  readonly info: RunInfo;
  private log: string | undefined;
  private next = 0;
  private resync = false;
  /** Records read. */
  records = 0;
  private tornAt: number | undefined;
  private readonly config: Record<string, unknown> = {};
  /** Summary updates not yet applied: key → [path, value_json, record offset]; the last update of a key wins. */
  private readonly pendingSummary = new Map<string, [string[], number | string, number]>();
  private readonly keyed = new KeyedRecordDecoder(new NameTable());
  private readonly summary: Record<string, unknown> = {};
  private rows = 0;
  private readonly ids = new Map<string, { phase: 0 | 1 | 2; id: number }>();
  /** Byte offset in the log of the record being read. */
  position = 0;
  /** Log bytes read from disk (a reader resumed from an index reads only what is new). */
  bytesRead = 0;

  constructor(private readonly options: WandbRunOptions) {
    this.info = { kind: 'wandb', name: options.name, state: 'running', notShown: new Map(), config: this.config, summary: this.summary };
  }

  /** The log, once found. */
  get files(): readonly string[] {
    return this.log === undefined ? [] : [this.log];
  }

  /** The log, looked for when not yet found. */
  findFiles(): string[] {
    this.log ??= this.findLog();
    return this.log === undefined ? [] : [this.log];
  }

  /** Where this reader stands (after a poll), for one that goes on later from the same point (`resume`). */
  save(): WandbResumeState {
    const { name, id, state, exitCode } = this.info;
    return {
      next: this.next,
      resync: this.resync,
      records: this.records,
      rows: this.rows,
      info: { name, ...(id === undefined ? {} : { id }), state, ...(exitCode === undefined ? {} : { exitCode }) },
      config: structuredClone(this.config),
      summary: structuredClone(this.summary),
      notShown: [...this.info.notShown],
    };
  }

  /** Goes on from a saved point, before the first poll (the caller checked the log is unchanged up to there). */
  resume(state: WandbResumeState): void {
    this.next = state.next;
    this.resync = state.resync;
    this.records = state.records;
    this.rows = state.rows;
    Object.assign(this.info, state.info);
    Object.assign(this.config, state.config);
    Object.assign(this.summary, state.summary);
    for (const [key, kind] of state.notShown) this.info.notShown.set(key, kind);
  }

  async poll(): Promise<boolean> {
    this.log ??= this.findLog();
    if (this.log === undefined) return false;
    const fd = openIfExists(this.log);
    if (fd === undefined) return false;
    let read = false;
    try {
      const size = fs.fstatSync(fd).size;
      let limit = MAX_READ_BYTES;
      this.tornAt = undefined;
      while (this.next < size) {
        const want = Math.min(size - this.next, limit);
        const bytes = Buffer.allocUnsafe(want);
        const got = fs.readSync(fd, bytes, 0, want, this.next);
        if (got === 0) break;
        this.bytesRead += got;
        const scan = scanWandbLogFrom(bytes.subarray(0, got), this.next, this.resync);
        this.resync = false;
        for (const record of scan.records) {
          this.records++;
          read = true;
          this.position = record.start;
          this.readRecord(record.start, record.payload);
        }
        // A run taken for crashed while it was quiet is running again when its log grows.
        if (read && this.info.state === 'crashed' && this.info.exitCode === undefined) this.info.state = 'running';
        const damage = scan.damage;
        if (damage === undefined) {
          this.next += got;
        } else if (damage.kind === 'corrupt') {
          this.problem(damage.offset, `${damage.message}; reading goes on at the next 32 KiB block`);
          this.next = (Math.floor(damage.offset / BLOCK_BYTES) + 1) * BLOCK_BYTES;
          this.resync = true;
        } else if (this.next + got < size) {
          // Only the read ended inside the record: read again from its start, with more room
          // when the record alone is longer than a read.
          if (damage.offset === this.next) limit *= 2;
          this.next = damage.offset;
        } else {
          // The file ends inside the record: its writer is still writing (or was killed).
          this.next = damage.offset;
          this.tornAt = damage.offset;
          break;
        }
      }
    } finally {
      fs.closeSync(fd);
    }
    this.applySummary();
    return read;
  }

  /** For a reader that reads once: a torn last record is reported, and no exit record means crashed. */
  finish(): void {
    if (this.log === undefined) {
      this.options.sink.problem({ file: this.options.path, offset: 0, record: 0, reason: 'the run folder holds no run-*.wandb log' });
      return;
    }
    if (this.tornAt !== undefined) {
      this.problem(this.tornAt, 'the log ends inside this record (the writer was killed, or is still writing); the whole records before it are read');
    }
    if (this.info.state === 'running') this.info.state = 'crashed';
  }

  async close(): Promise<void> {
    // Files are opened per read and closed at once: nothing is held.
  }

  private findLog(): string | undefined {
    try {
      return fs.statSync(this.options.path).isFile() ? this.options.path : logOfRunDir(this.options.path);
    } catch (error) {
      if (errnoCode(error) === 'ENOENT') return undefined;
      throw error;
    }
  }

  private problem(offset: number, reason: string): void {
    this.options.sink.problem({ file: this.log ?? this.options.path, offset, record: this.records + 1, reason });
  }

  private readRecord(offset: number, payload: Uint8Array): void {
    let keyed: KeyedItems | undefined;
    try {
      keyed = this.keyed.decode(payload);
    } catch (error) {
      // Malformed bytes: the full decoder below names what is wrong.
      if (!(error instanceof ProtoDecodeError)) throw error;
    }
    if (keyed !== undefined) {
      if (keyed.kind === 'history') this.historyRow(keyed.keys, keyed.values, keyed.stepNum);
      else for (let i = 0; i < keyed.keys.length; i++) this.pendingSummary.set(keyed.keys[i] as string, [keyed.paths[i] as string[], keyed.values[i] as string, offset]);
      return;
    }
    let record: WandbRecord;
    try {
      record = decodeRecord(payload);
    } catch (error) {
      if (!(error instanceof Error)) throw error;
      this.problem(offset, `not a wandb_internal.Record (${errorText(error)}); skipped`);
      return;
    }
    if (record.history !== undefined) {
      const items = record.history.item ?? [];
      const num = record.history.step?.num;
      this.historyRow(items.map(keyOf), items.map((item) => item.value_json ?? 'null'), num === undefined ? undefined : Number(num));
    } else if (record.summary !== undefined) {
      this.applySummary();
      applyItems(this.summary, record.summary.update, record.summary.remove, this.badItem(offset));
    }
    else if (record.config !== undefined) this.applyConfig(record.config.update, record.config.remove, offset);
    else if (record.stats !== undefined) this.stats(record.stats);
    else if (record.run !== undefined) {
      const run = record.run;
      if (run.run_id !== undefined) this.info.id = run.run_id;
      const name = run.display_name ?? run.run_id;
      if (name !== undefined && name !== '') this.info.name = name;
      this.applyConfig(run.config?.update, run.config?.remove, offset);
      if (run.summary !== undefined) applyItems(this.summary, run.summary.update, run.summary.remove, this.badItem(offset));
    } else if (record.exit !== undefined) {
      this.info.exitCode = record.exit.exit_code ?? 0;
      this.info.state = this.info.exitCode === 0 ? 'finished' : 'failed';
    }
  }

  private applyConfig(update: Parameters<typeof applyItems>[1], remove: Parameters<typeof applyItems>[2], offset: number): void {
    applyItems(this.config, update, remove, this.badItem(offset));
    // W&B's own bookkeeping, not the user's config.
    delete this.config._wandb;
  }

  private badItem(offset: number): (item: { key?: string; nested_key?: string[] }, error: unknown) => void {
    return (item, error) => this.problem(offset, `${keyOf(item)}: value_json is not JSON (${errorText(error)}); skipped`);
  }

  private historyRow(keys: readonly string[], texts: ReadonlyArray<number | string>, stepNum: number | undefined): void {
    let step: number | bigint = NaN;
    let ts = NaN;
    const row = this.rows++;
    // _step and _timestamp come anywhere in the row: the values wait for them.
    const names: string[] = [];
    const values: unknown[] = [];
    for (let i = 0; i < keys.length; i++) {
      const key = keys[i] as string;
      const text = texts[i] as number | string;
      let value: unknown = text;
      if (typeof text === 'string') {
        try {
          value = parseValueJson(text);
        } catch (error) {
          if (!(error instanceof SyntaxError)) throw error;
          this.problem(0, `history row ${row + 1}: ${key}: value_json is not JSON (${errorText(error)}); skipped`);
          continue;
        }
      }
      if (key === '_step') step = typeof value === 'number' ? value : NaN;
      else if (key === '_timestamp') ts = typeof value === 'number' ? value : NaN;
      else if (key.charCodeAt(0) !== 95 /* _ */) {
        names.push(key);
        values.push(value);
      }
    }
    if (Number.isNaN(step)) step = stepNum ?? row;
    for (let i = 0; i < names.length; i++) this.emit(names[i] as string, values[i], step, ts, undefined);
  }

  /** Summary updates are kept as text and parsed when the summary is looked at: the SDK writes one per row. */
  private applySummary(): void {
    if (this.pendingSummary.size === 0) return;
    const update = [...this.pendingSummary.values()].map(([path, text]) => ({
      nested_key: path,
      value_json: typeof text === 'number' ? String(text) : text,
    }));
    const offset = [...this.pendingSummary.values()][0]?.[2] ?? 0;
    this.pendingSummary.clear();
    applyItems(this.summary, update, undefined, this.badItem(offset));
  }

  private stats(stats: StatsRecord): void {
    const ts = stats.timestamp === undefined ? NaN : Date.parse(stats.timestamp) / 1000;
    for (const item of stats.item ?? []) {
      const key = item.key ?? '';
      let value: unknown;
      try {
        value = parseValueJson(item.value_json ?? 'null');
      } catch (error) {
        this.problem(0, `stats: ${key}: value_json is not JSON (${errorText(error)}); skipped`);
        continue;
      }
      this.emit(key, value, NaN, ts, PHASE_SYSTEM);
    }
  }

  private emit(key: string, value: unknown, step: number | bigint, ts: number, phase: 0 | 1 | 2 | undefined): void {
    if (typeof value !== 'number') {
      if (!this.info.notShown.has(key)) this.info.notShown.set(key, describeValue(value));
      return;
    }
    const cacheKey = phase === undefined ? key : `\u0000${key}`;
    let id = this.ids.get(cacheKey);
    if (id === undefined) {
      const place = phase === undefined ? phaseOf(key) : { phase, name: key };
      id = { phase: place.phase, id: this.options.sink.names.idOfString(place.name) };
      this.ids.set(cacheKey, id);
    }
    const sink = this.options.sink;
    sink.visitor.scalar(id.phase, id.id, sink.run, step, ts, value);
  }
}

function describeValue(value: unknown): string {
  if (typeof value === 'string') return 'string';
  if (typeof value === 'boolean') return 'boolean';
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'list';
  const type = (value as { _type?: unknown })._type;
  return typeof type === 'string' ? type : 'object';
}
