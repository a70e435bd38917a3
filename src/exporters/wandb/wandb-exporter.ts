/**
 * W&B offline exporter: a PushMetricExporter writing an offline run directory that the real
 * `wandb sync <run-dir>` uploads later (this package never talks to W&B servers).
 *
 * The records themselves come from WandbRunEncoder (pure, no file system access): see it for the
 * order and for why a summary record follows every batch of history. This shell owns the run
 * directory, the side files in `files/`, and the log file: each batch of records is appended with
 * one write through AppendFile, which flushes off the training thread. A crash leaves no exit
 * record, and sync marks the run failed, as it should.
 */
import fs from 'node:fs';
import path from 'node:path';
import { diag } from '@opentelemetry/api';
import { ExportResultCode, type ExportResult } from '@opentelemetry/core';
import { AggregationTemporality, type ResourceMetrics } from '@opentelemetry/sdk-metrics';
import { ConfigError, errnoCode } from '../../errors.js';
import type { SinkHealth } from '../../pipeline/sink-health.js';
import { AppendFile } from '../file/append-file.js';
import type { FileSinkExporter } from '../file-sink.js';
import { decodeStepRows } from '../step-rows.js';
import { WANDB_FILE_HEADER } from './log-framing.js';
import { WandbRunEncoder, type RunFile } from './run-encoder.js';
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
  /** Unix seconds; injectable for tests. */
  now?: () => number;
}

export class WandbExporter implements FileSinkExporter {
  readonly sinkName = WANDB_SINK;
  readonly layout: RunLayout;
  private readonly options: WandbExporterOptions;
  private readonly now: () => number;
  private readonly facts: HostFacts;
  private readonly file: AppendFile | undefined;
  private readonly encoder: WandbRunEncoder | undefined;
  private heldSinceMs = 0;
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
    return this.encoder?.recordCount ?? 0;
  }

  /** The exit code the run will end with (0 unless set; non-zero on signals and uncaught errors). */
  setExitCode(code: number): void {
    this.exitCode = code;
  }

  export(metrics: ResourceMetrics, resultCallback: (result: ExportResult) => void): void {
    const encoder = this.encoder;
    if (this.ended || encoder === undefined || this.file === undefined || !this.file.up) {
      resultCallback({ code: ExportResultCode.FAILED, error: new Error('wandb sink is not writable') });
      return;
    }
    if (!encoder.holding) this.heldSinceMs = Date.now();
    encoder.write(decodeStepRows(metrics));
    this.writeDue();
    resultCallback({ code: ExportResultCode.SUCCESS });
  }

  /**
   * Appends what the encoder framed, with its summary record; writes a row held too long first.
   * Also run from the timer, since an idle reader exports nothing.
   */
  private writeDue(): void {
    const encoder = this.encoder;
    if (encoder === undefined) return;
    if (encoder.holding && Date.now() - this.heldSinceMs >= MAX_HOLD_MS) encoder.release();
    this.commit();
  }

  async forceFlush(): Promise<void> {
    if (!this.ended) this.encoder?.release();
    this.commit();
    await this.file?.flush();
  }

  /** Writes what is encoded, with blocking calls (process exit). Leaves the run open. */
  flushSync(): void {
    if (!this.ended) this.encoder?.release();
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
    this.file?.flushSync();
  }

  shutdown(): Promise<void> {
    this.shutdownPromise ??= (async () => {
      this.end();
      await this.file?.close();
    })();
    return this.shutdownPromise;
  }

  selectAggregationTemporality(): AggregationTemporality {
    return AggregationTemporality.DELTA;
  }

  /** Batches are appended whole: a torn write can only tear the last record of the last batch. */
  private commit(): void {
    if (this.ended || this.encoder === undefined) return;
    const bytes = this.encoder.take();
    if (bytes.byteLength === 0 || this.file === undefined) return;
    this.file.append(bytes);
    // Hand the batch to the kernel now rather than on the file's own timer: two timers in a row
    // let a SIGKILL lose up to two intervals of rows, one clock loses at most one.
    this.file.flush().catch((error: unknown) => diag.error('codex-telemetry: wandb flush failed', error));
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
        `cannot create ${layout.runDir} (${describeError(error)}); check WANDB_DIR, permissions and free space`,
      );
      return undefined;
    }
  }

  private open(opening: Uint8Array): AppendFile | undefined {
    const file = new AppendFile({
      path: this.layout.logPath,
      sink: WANDB_SINK,
      health: this.options.health,
      flushIntervalMs: this.options.flushIntervalMs,
      header: opening,
      truncate: true,
    });
    return file.up ? file : undefined;
  }

  /** Closing records and side files; runs once, whichever of shutdown/finishSync comes first. */
  private end(): void {
    if (this.ended) return;
    this.commit();
    this.ended = true;
    if (this.timer) clearInterval(this.timer);
    const encoder = this.encoder;
    if (encoder === undefined || this.file === undefined || !this.file.up) return;
    const runtime = Math.max(0, Math.round(this.now() - this.options.startTime));
    // output.log appears during the run when `run --capture-output` copies the trainer's output.
    const late: RunFile[] = fs.existsSync(path.join(this.layout.filesDir, 'output.log'))
      ? [{ path: 'output.log', policy: 'END', type: 'WANDB' }]
      : [];
    this.file.append(encoder.end(this.exitCode, runtime, late));
    try {
      writeSummaryJson(this.layout.filesDir, encoder.summaryObject(runtime));
    } catch (error) {
      if (errnoCode(error) === undefined) throw error;
      diag.warn(
        `codex-telemetry: cannot write ${this.layout.filesDir}/wandb-summary.json (${describeError(error)})`,
      );
    }
  }
}

function describeError(error: unknown): string {
  const code = errnoCode(error);
  const message = error instanceof Error ? error.message : String(error);
  return code === undefined ? message : `${code}: ${message}`;
}
