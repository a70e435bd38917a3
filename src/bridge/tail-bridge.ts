/**
 * Replays NDJSON files into a running Telemetry: each line becomes a row with its own step and
 * timestamp; consecutive schema-v1 lines of one (phase, step) are merged back into one row so
 * TensorBoard and W&B see one event per step. Malformed lines are counted and reported with file
 * and line number (the first few, then a running count), and skipped.
 */
import { errorText } from '../errors.js';
import { isUtf8 } from 'node:buffer';
import { setTimeout as sleep } from 'node:timers/promises';
import { INT64_MAX, nextStep, type Phase, type Step } from '../step.js';
import { nowSeconds, type Telemetry } from '../telemetry.js';
import { splitLines } from '../ndjson/line/line-splitter.js';
import { StreamFollower, type WholeLines } from '../ndjson/stream-follower.js';
import { parseRecordLine } from '../ndjson/line/parse-record.js';
import { StepOrderBuffer } from './step-order.js';
import { tooLongReason } from '../ndjson/line/max-line.js';
import { FollowedIndex } from '../run-index/followed-index.js';

/** Report this many malformed lines in full; after that only a count every REPORT_EVERY lines. */
const REPORT_FIRST = 10;
const REPORT_EVERY = 1000;
/** Flush to the sinks when this many rows are queued, so a large backlog replays in bounded memory. */
const BACKLOG_FLUSH_ROWS = 8192;
const DEFAULT_POLL_MS = 100;

export interface TailStats {
  lines: number;
  rows: number;
  malformed: number;
  resets: number;
  /** Unterminated last lines that did not parse (counted in `malformed` too). */
  unterminatedDropped: number;
}

export interface TailBridgeOptions {
  files: string[];
  fromStart: boolean;
  telemetry: Telemetry;
  warn: (message: string) => void;
  /** Informational lines (e.g. waiting for a file); default: dropped. */
  info?: (message: string) => void;
  pollMs?: number;
  /** The longest line read; default CODEX_MAX_LINE_BYTES, else 1 MiB. */
  maxLineBytes?: number;
  /**
   * Keep a run index of each stream followed (src/run-index, docs/run-index.md; default true),
   * unless its writer keeps one.
   */
  index?: boolean;
  /** For the run index's cache folder (XDG_CACHE_HOME); default process.env. */
  env?: NodeJS.ProcessEnv;
}

/** Lines of one file, numbered from `firstLine` (1-based). */
interface NumberedLines {
  file: string;
  firstLine: number;
  lines: Buffer[];
}

interface PendingRow {
  /** The stream (active file) it was read from. */
  stream: string;
  phase: Phase;
  step: Step;
  ts: number;
  names: string[];
  values: number[];
}

export class TailBridge {
  readonly stats: TailStats = { lines: 0, rows: 0, malformed: 0, resets: 0, unterminatedDropped: 0 };
  private readonly telemetry: Telemetry;
  private readonly warn: (message: string) => void;
  private readonly followers: StreamFollower[];
  /** Lines read so far of each file (reset when the file starts over), for file:line reports. */
  private readonly linesOf = new Map<string, number>();
  private readonly pollMs: number;
  private readonly nextStep = new Map<string, Step>();
  /** Streams already told the step rule, by what they were told ('none', 'negative'). */
  private readonly stepRuleSaid = new Map<string, Set<string>>();
  private pending: PendingRow | undefined;
  private sinceFlush = 0;
  /** Segment file → its active file, so a rotated stream numbers default steps as one stream. */
  private readonly streamOf = new Map<string, string>();
  /** Train and eval rows of several files, put back in step order (system rows skip it). */
  private readonly ordered: StepOrderBuffer<PendingRow>;
  /** Stream (active file) → its index among the files, for the step-order queues. */
  private readonly fileIndex = new Map<string, number>();
  /** The run index kept of each stream followed. */
  private readonly indexes: FollowedIndex[];

  constructor(options: TailBridgeOptions) {
    this.telemetry = options.telemetry;
    this.warn = options.warn;
    this.pollMs = options.pollMs ?? DEFAULT_POLL_MS;
    this.ordered = new StepOrderBuffer(options.files.length, (row) => this.ingest(row));
    options.files.forEach((file, i) => this.fileIndex.set(file, i));
    this.followers = options.files.map(
      (file) =>
        new StreamFollower({
          path: file,
          fromStart: options.fromStart,
          maxLineBytes: options.maxLineBytes,
          onFileStart: (read) => {
            // A rotated stream's segments number default steps as one stream with their active file.
            this.streamOf.set(read, file);
            this.linesOf.set(read, 0);
          },
          onLines: (lines) => this.onLines(this.numbered(lines)),
          onUnterminated: (read, line) => this.onUnterminated(read, line),
          onTooLong: (read, _offset, limit) => {
            const line = (this.linesOf.get(read) ?? 0) + 1;
            this.linesOf.set(read, line);
            this.stats.lines++;
            this.malformed(read, line, 'line', tooLongReason(limit));
          },
          onSegmentError: (read, error) =>
            this.malformed(read, 0, 'file', `segment unreadable (${errorText(error)})`),
          onReset: (event) => {
            this.stats.resets++;
            this.warn(
              `codex-telemetry: ${event.file} was ${event.kind}${event.partialBytes > 0 ? ` (an unfinished ${event.partialBytes}-byte line was dropped)` : ''}; following the new content`,
            );
          },
          onMissing: (missing) => options.info?.(`codex-telemetry: waiting for ${missing} to appear`),
        }),
    );
    this.indexes =
      options.index === false
        ? []
        : options.files.map((file) => new FollowedIndex(file, { env: options.env, warn: this.warn }));
  }

  /** Reads everything the files hold now. Returns the bytes read. */
  async pollOnce(): Promise<number> {
    let total = 0;
    for (const follower of this.followers) total += await follower.poll();
    this.flushPending();
    this.ordered.endPoll();
    // Also when nothing was read: a follower that starts at the file's end reads nothing of what
    // the file held, which the index covers all the same.
    for (const index of this.indexes) await index.update();
    return total;
  }

  /** Follows until `signal` aborts, then reads what is left and returns. */
  async follow(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      const read = await this.pollOnce();
      if (read === 0) await sleep(this.pollMs, undefined, { signal }).catch(() => undefined);
    }
    await this.drain();
  }

  /**
   * Reads until the files stop growing, then closes them. The writer is done by now, so a last line
   * without its newline is read as a line; if it does not parse, it is reported as unfinished.
   */
  async drain(): Promise<void> {
    while ((await this.pollOnce()) > 0);
    for (const follower of this.followers) await follower.finish();
    this.ordered.releaseAll();
    for (const index of this.indexes) await index.finish();
  }

  /** Numbers the lines of a chunk within their file. */
  private numbered({ file, buf, end }: WholeLines): NumberedLines {
    const lines = splitLines(buf, end);
    const before = this.linesOf.get(file) ?? 0;
    this.linesOf.set(file, before + lines.length);
    return { file, firstLine: before + 1, lines };
  }

  /** A complete file's last line without its newline: a row if it parses, else reported as unfinished. */
  private async onUnterminated(file: string, line: Buffer): Promise<void> {
    const before = this.stats.malformed;
    await this.onLines(this.numbered({ file, buf: line, end: line.length, fileOffset: 0 }), true);
    if (this.stats.malformed > before) this.stats.unterminatedDropped++;
  }

  private async onLines(batch: NumberedLines, unterminated = false): Promise<void> {
    for (let i = 0; i < batch.lines.length; i++) {
      const bytes = batch.lines[i] as Buffer;
      if (bytes.length === 0) continue;
      this.stats.lines++;
      if (!isUtf8(bytes)) {
        this.malformed(batch.file, batch.firstLine + i, 'line', 'invalid UTF-8');
        continue;
      }
      const parsed = parseRecordLine(bytes.toString('utf8'));
      if (!parsed.ok) {
        const reason = unterminated ? `unfinished last line (no newline): ${parsed.reason}` : parsed.reason;
        this.malformed(batch.file, batch.firstLine + i, parsed.field, reason);
        continue;
      }
      const { row } = parsed;
      const stream = this.streamOf.get(batch.file) ?? batch.file;
      const key = `${stream}\0${row.phase}`;
      this.checkStep(stream, batch.file, batch.firstLine + i, row.step);
      const step = row.step ?? this.nextStep.get(key) ?? 0;
      // Carried into bigint past 2^53 - 1; past the int64 maximum the row is refused by ingest.
      this.nextStep.set(key, nextStep(step) ?? INT64_MAX + 1n);
      const pending = this.pending;
      if (pending && pending.phase === row.phase && pending.step === step && row.phase !== 'system') {
        pending.names.push(...row.names);
        pending.values.push(...row.values);
        continue;
      }
      this.flushPending();
      this.pending = {
        stream,
        phase: row.phase,
        step,
        ts: row.ts ?? nowSeconds(),
        names: row.names,
        values: row.values,
      };
    }
    this.flushPending();
    if (this.sinceFlush >= BACKLOG_FLUSH_ROWS) {
      this.sinceFlush = 0;
      await this.telemetry.flush();
    }
  }

  private flushPending(): void {
    const row = this.pending;
    if (!row) return;
    this.pending = undefined;
    if (row.phase === 'system') this.ingest(row);
    else this.ordered.add(this.fileIndex.get(row.stream) ?? 0, row);
  }

  private ingest(row: PendingRow): void {
    if (this.telemetry.ingest(row)) {
      this.stats.rows++;
      this.sinceFlush++;
    }
  }

  /**
   * The step rule, said once per stream the first time a row needs it: a row without a step takes
   * its phase's previous step + 1 (0 first), as `telemetry.log` does, so a later row's own step may
   * repeat one taken this way; a negative step is kept as written (int64), though W&B's history
   * wants steps from 0 up.
   */
  private checkStep(stream: string, file: string, line: number, step: Step | undefined): void {
    const kind = step === undefined ? 'none' : step < 0 ? 'negative' : undefined;
    if (kind === undefined) return;
    const said = this.stepRuleSaid.get(stream) ?? new Set<string>();
    if (said.has(kind)) return;
    said.add(kind);
    this.stepRuleSaid.set(stream, said);
    this.warn(
      kind === 'none'
        ? `codex-telemetry: ${file}:${line}: a row without "step" takes its phase's previous step + 1 (0 first); a later row's own step may then repeat one, so give every row a step (said once per stream)`
        : `codex-telemetry: ${file}:${line}: step ${step} is negative; it is kept as written, but W&B's history wants steps from 0 up (said once per stream)`,
    );
  }

  private malformed(file: string, line: number, field: string, reason: string): void {
    this.stats.malformed++;
    const where = line > 0 ? `${file}:${line}` : file;
    if (this.stats.malformed <= REPORT_FIRST) {
      this.warn(`codex-telemetry: skipped malformed line ${where}: field "${field}" ${reason}`);
    } else if (this.stats.malformed % REPORT_EVERY === 0) {
      this.warn(`codex-telemetry: ${this.stats.malformed} malformed lines skipped so far (latest ${where})`);
    }
  }
}
