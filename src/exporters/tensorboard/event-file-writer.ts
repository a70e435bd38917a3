/**
 * One TensorBoard run directory's event file: `events.out.tfevents.<10-digit secs>.<host>.<pid>.<n>`,
 * starting with the `brain.Event:2` record, rotating to a new file past a size. Names sort in
 * time order (TensorBoard reads a run's files in name order and never returns to an older one):
 * the seconds never go backwards and `n` is zero-padded.
 */
import path from 'node:path';
import type { SinkHealth } from '../../health.js';
import { AppendFile } from '../file/append-file.js';
import type { RotationPolicy } from '../file/rotation-policy.js';
import { RotationRunner } from '../file/rotation-runner.js';
import { frameRecord } from '../../formats/codec/tfrecord.js';
import { encodeFileVersionEvent } from '../../formats/tensorboard/event-encoder.js';

export interface EventFileWriterOptions {
  dir: string;
  hostname: string;
  pid: number;
  sink: string;
  health: SinkHealth;
  rotation: RotationPolicy;
  /** Unix seconds. */
  now: () => number;
  maxQueuedBytes?: number;
}

export class EventFileWriter {
  private readonly options: EventFileWriterOptions;
  private file: AppendFile;
  private sequence = 0;
  private lastSeconds = 0;
  private readonly rotation: RotationRunner<void>;

  constructor(options: EventFileWriterOptions) {
    this.options = options;
    const { filePath, header } = this.next();
    this.rotation = new RotationRunner(
      options.rotation,
      () => this.rotate(),
      (message) => options.health.warn(message),
      () => this.file.path,
    );
    this.file = new AppendFile({
      path: filePath,
      sink: options.sink,
      health: options.health,
      header,
      truncate: true,
      maxQueuedBytes: options.maxQueuedBytes,
    });
  }

  get path(): string {
    return this.file.path;
  }

  get up(): boolean {
    return this.file.up;
  }

  /** Appends one framed record carrying `rows` rows (one write, so a kill leaves at most a torn last record). */
  append(record: Uint8Array, rows = 1): void {
    this.file.append(record, rows);
    this.rotation.check(this.file.size);
  }

  async flush(): Promise<void> {
    await this.rotation.idle();
    await this.file.flush();
  }

  flushSync(): void {
    this.file.flushSync();
  }

  async close(): Promise<void> {
    await this.rotation.idle();
    await this.file.close();
  }

  private async rotate(): Promise<void> {
    const { filePath, header } = this.next();
    await this.file.reopen(filePath, { header });
  }

  private next(): { filePath: string; header: Buffer } {
    const wallTime = this.options.now();
    const seconds = Math.max(this.lastSeconds, Math.floor(wallTime));
    this.lastSeconds = seconds;
    const n = String(this.sequence++).padStart(6, '0');
    const name = `events.out.tfevents.${String(seconds).padStart(10, '0')}.${this.options.hostname}.${this.options.pid}.${n}`;
    return {
      filePath: path.join(this.options.dir, name),
      header: frameRecord(encodeFileVersionEvent(wallTime)),
    };
  }
}
