/**
 * W&B offline sink: writes an offline run directory that the real `wandb sync <run-dir>` uploads
 * later (this package never talks to W&B servers).
 *
 * The records come from WandbRunEncoder (pure, no file system access): see it for their order and
 * for why a summary record goes with the history it summarises. This shell owns the run directory,
 * the side files in `files/` and the log file, which the pipeline's flush clock writes off the
 * training thread: `write` queues history and stats, each `flush` adds the held row and a summary
 * of what changed, so a run killed at any moment syncs with the summary of its last row. A crash
 * leaves no exit record, and sync marks the run failed, as it should.
 */
import fs from 'node:fs';
import path from 'node:path';
import { ConfigError, errnoCode, errorText } from '../../errors.js';
import type { Row } from '../../pipeline/row.js';
import type { RowSink, RunOutcome } from '../../pipeline/row-sink.js';
import type { SinkHealth } from '../../health.js';
import { AppendFile } from '../file/append-file.js';
import { WANDB_FILE_HEADER } from '../../formats/wandb/log-framing.js';
import { WandbRunEncoder, type RunEncoderOptions, type RunFile } from './run-encoder.js';
import { RUN_ID_PATTERN, createRunLayout, pointLatestRun, runLayout, type RunLayout } from './run-dir.js';
import {
  copyRequirements,
  hostFacts,
  writeConfigYaml,
  writeMetadata,
  writeSummaryJson,
  type HostFacts,
} from './side-files.js';

export const WANDB_SINK = 'wandb';

/** The run's identity as the encoder takes it (`runId`: 8 characters of [a-z0-9]; `startTime` also names the directory). */
export interface WandbExporterOptions
  extends Pick<RunEncoderOptions, 'runId' | 'project' | 'entity' | 'displayName' | 'config' | 'tags' | 'startTime'> {
  /** The W&B directory (WANDB_DIR, or `<out>/wandb`); the run directory goes inside it. */
  dir: string;
  health: SinkHealth;
  hostname?: string;
  /** Unix seconds; injectable for tests. */
  now?: () => number;
  /** The most a stuck run log holds in memory; past it the log ends there (see AppendFile `seal`). */
  maxQueuedBytes?: number;
}

export class WandbExporter implements RowSink {
  readonly name = WANDB_SINK;
  /** Its exit record holds the run's outcome: it closes after the other sinks. */
  readonly recordsOutcome = true;
  readonly layout: RunLayout;
  private readonly options: WandbExporterOptions;
  private readonly now: () => number;
  private readonly facts: HostFacts;
  private readonly file: AppendFile | undefined;
  private readonly encoder: WandbRunEncoder | undefined;
  private ended = false;
  /** Rows encoded since the last append (drop counts). */
  private pendingRows = 0;
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
    this.facts = hostFacts(options.hostname);
    this.layout = runLayout(options.dir, options.runId, options.startTime);
    options.health.register(WANDB_SINK);
    const files = this.createFiles();
    if (files === undefined) return;
    this.encoder = new WandbRunEncoder({ ...options, facts: this.facts, files });
    // The opening records go to disk with the file header, before the constructor returns: a run
    // killed before its first flush still holds a run record, which `wandb sync` needs to read it
    // at all (with the header alone it fails with "error getting next record: EOF").
    this.file = this.open(Buffer.concat([WANDB_FILE_HEADER, this.encoder.begin()]));
    if (this.file === undefined) return;
    try {
      pointLatestRun(options.dir, this.layout.runDir);
    } catch (error) {
      // The link is a convenience: the run itself is fine without it, so the sink stays up.
      options.health.warn(
        `codex-telemetry: cannot point ${options.dir}/latest-run at the run (${errorText(error)})`,
      );
    }
  }

  /** Directory to pass to `wandb sync`. */
  get runDir(): string {
    return this.layout.runDir;
  }

  /** Records written so far (for reports and tests). */
  get recordCount(): number {
    return this.encoder?.recordCount ?? 0;
  }

  write(rows: readonly Row[]): void {
    if (this.ended || this.encoder === undefined || this.file === undefined || !this.file.up) return;
    this.encoder.write(rows);
    this.pendingRows += rows.length;
    // History and stats are queued now; the summary waits for the flush (one per flush, not per write).
    this.commit(false);
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
      this.end(outcome.exitCode);
      await this.file?.close();
    })();
    return this.shutdownPromise;
  }

  /** The same for `process.on('exit')`, where no promise runs. */
  closeSync(outcome: RunOutcome): void {
    this.end(outcome.exitCode);
    this.file?.flushSync();
  }

  private flushRecords(): void {
    if (this.ended) return;
    this.encoder?.release();
    this.commit(true);
  }

  /** Batches are appended whole: a torn write can only tear the last record of the last batch. */
  private commit(withSummary: boolean): void {
    if (this.ended || this.encoder === undefined) return;
    const bytes = this.encoder.take(withSummary);
    if (bytes.byteLength > 0) this.file?.append(bytes, this.pendingRows);
    this.pendingRows = 0;
  }

  /** The run directory and the side files that exist from the start; the files record lists them. */
  private createFiles(): RunFile[] | undefined {
    const { options, layout } = this;
    try {
      createRunLayout(layout);
      writeMetadata(layout.filesDir, this.facts, options.startTime);
      const files: RunFile[] = [{ path: 'wandb-metadata.json', policy: 'NOW', type: 'WANDB' }];
      if (copyRequirements(this.facts.root, layout.filesDir)) {
        files.push({ path: 'requirements.txt', policy: 'NOW', type: 'WANDB' });
      }
      writeConfigYaml(layout.filesDir, options.config ?? {});
      files.push({ path: 'config.yaml', policy: 'END', type: 'WANDB' });
      files.push({ path: 'wandb-summary.json', policy: 'END', type: 'WANDB' });
      return files;
    } catch (error) {
      if (errnoCode(error) === undefined) throw error;
      options.health.markDown(
        WANDB_SINK,
        `cannot create ${layout.runDir} (${errorText(error)}); check WANDB_DIR, permissions and free space`,
      );
      return undefined;
    }
  }

  private open(opening: Uint8Array): AppendFile | undefined {
    const file = new AppendFile({
      path: this.layout.logPath,
      sink: WANDB_SINK,
      health: this.options.health,
      header: opening,
      truncate: true,
      maxQueuedBytes: this.options.maxQueuedBytes,
      // Blocks frame records by their offset: a dropped batch would misframe every later one.
      capPolicy: 'seal',
    });
    return file.up ? file : undefined;
  }

  /** Closing records and side files; runs once, whichever of close/closeSync comes first. */
  private end(exitCode: number): void {
    if (this.ended) return;
    this.commit(false);
    this.ended = true;
    const encoder = this.encoder;
    if (encoder === undefined || this.file === undefined) return;
    const cutAt = this.file.truncatedTo;
    if (!this.file.up && cutAt === undefined) return;
    const runtime = Math.max(0, Math.round(this.now() - this.options.startTime));
    // output.log appears during the run when `run --capture-output` copies the trainer's output.
    const late: RunFile[] = fs.existsSync(path.join(this.layout.filesDir, 'output.log'))
      ? [{ path: 'output.log', policy: 'END', type: 'WANDB' }]
      : [];
    if (this.file.up) this.file.append(encoder.end(exitCode, runtime, late), 0);
    else if (cutAt !== undefined) {
      // A full disk cut the log back to its last whole record: the closing records (summary, exit,
      // final) go there if they fit; if not, the log ends at that record and `wandb sync` reports
      // the run as failed ("no exit record encountered").
      encoder.resumeAt(cutAt);
      const fitted = this.file.writeAfterFault(encoder.end(exitCode, runtime, late));
      this.options.health.warn(
        fitted
          ? `codex-telemetry: ${this.layout.logPath}: the exit record (exit code ${exitCode}) was written after the write fault`
          : `codex-telemetry: ${this.layout.logPath}: no room for the exit record after the write fault; wandb sync will report the run as failed`,
      );
    }
    try {
      writeSummaryJson(this.layout.filesDir, encoder.summaryObject(runtime));
    } catch (error) {
      if (errnoCode(error) === undefined) throw error;
      this.options.health.warn(
        `codex-telemetry: cannot write ${this.layout.filesDir}/wandb-summary.json (${errorText(error)})`,
      );
    }
  }
}

