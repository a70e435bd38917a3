/**
 * Reads one TensorBoard run: every `events.out.tfevents.*` file of its folder (or the one file the
 * user named), in file-name order as TensorBoard reads them, into a RunSink. Each file is followed
 * from where the last read stopped, so a run being written grows in place.
 *
 * - Every scalar keeps its event's wall time and step.
 * - Restarted runs follow TensorBoard's rule (restart-plan.ts).
 * - A torn last record waits for its writer; `finish()` (a reader that reads once) reports it.
 * - A bad CRC, or a record that is not an Event, is reported with file and byte offset; the rest
 *   of the file is still read.
 */
import fs from 'node:fs';
import { openIfExists } from '../../files/open-existing.js';
import path from 'node:path';
import { errnoCode, errorText } from '../../errors.js';
import { TFRECORD_FOOTER_BYTES, TFRECORD_HEADER_BYTES } from '../../formats/codec/tfrecord.js';
import { ProtoDecodeError } from '../../formats/codec/proto-reader.js';
import { decodeEvent, type DecodedEvent } from '../../formats/tensorboard/event-decoder.js';
import { listDir } from '../../ndjson/glob.js';
import { PHASE_EVAL, PHASE_SYSTEM, PHASE_TRAIN, type PhaseId } from '../../ndjson/line/metric-visitor.js';
import { NameTable } from '../../ndjson/line/name-table.js';
import { SimpleEventDecoder } from './simple-events.js';
import { phaseOf, type LiveRunReader, type RunInfo, type RunSink } from '../run-source.js';
import { readValue, type TagKinds } from './event-values.js';
import { RestartPlan, type RestartPlanState } from './restart-plan.js';
import { recordBytes, scanChunk } from './tfrecord-chunk.js';
import { EVENT_FILE } from '../run-files.js';

interface MetricId {
  phase: PhaseId;
  id: number;
}

/** Bytes read per call: large enough that syscalls vanish against decoding, small enough to stay bounded. */
export const CHUNK_BYTES = 4 << 20;
const RECORD_FRAME_BYTES = TFRECORD_HEADER_BYTES + TFRECORD_FOOTER_BYTES;

interface FileCursor {
  path: string;
  next: number;
  searching: boolean;
  records: number;
  /** Where a torn last record starts, while one is waiting. */
  tornAt: number | undefined;
  /** Damage at or before this offset was reported (a second pass reads it again, silently). */
  reported: number;
}

/** Where a reader stopped, so a later reader of the same run goes on from there (see source-index.ts). */
export interface TfeventsResumeState {
  files: Array<{ path: string; next: number; searching: boolean; records: number }>;
  ordinal: number;
  position: number;
  plan: RestartPlanState;
  kinds: Array<[string, string]>;
  notShown: Array<[string, string]>;
}

export interface TfeventsRunOptions {
  /** The run's folder (every event file in it) or one event file. */
  path: string;
  name: string;
  sink: RunSink;
  chunkBytes?: number;
}

export class TfeventsRunReader implements LiveRunReader {
  readonly info: RunInfo;
  private cursors: FileCursor[] = [];
  private readonly kinds: TagKinds = new Map();
  private readonly plan = new RestartPlan();
  private ordinal = 0;
  /** The run is one event file (not a folder). */
  readonly single: boolean;
  /** Interned metric names by tag, so a value costs one map lookup. */
  private readonly ids = new Map<string, MetricId>();
  /** The common Event (simple_value scalars only), decoded without objects; tags interned by bytes. */
  private readonly simple = new SimpleEventDecoder(new NameTable());
  private readonly byTagId: Array<(MetricId & { tag: string }) | undefined> = [];

  private readonly folderPhase: PhaseId;
  /** Record bytes handed on in this pass, over every file: where the current record lies in the run. */
  position = 0;
  /** Event-file bytes read from disk, every pass (a reader resumed from an index reads only what is new). */
  bytesRead = 0;

  constructor(private readonly options: TfeventsRunOptions) {
    this.info = { kind: 'tfevents', name: options.name, notShown: new Map() };
    this.single = isFile(options.path);
    const folder = path.basename(this.single ? path.dirname(options.path) : options.path);
    this.folderPhase = folder === 'eval' ? PHASE_EVAL : folder === 'system' ? PHASE_SYSTEM : PHASE_TRAIN;
  }

  /** Records read, over every file. */
  get records(): number {
    return this.cursors.reduce((sum, file) => sum + file.records, 0);
  }

  /** The event files read so far. */
  get files(): readonly string[] {
    return this.cursors.map((file) => file.path);
  }

  /** Where this reader stands, for one that goes on later from the same point (`resume`). */
  save(): TfeventsResumeState {
    return {
      files: this.cursors.map(({ path, next, searching, records }) => ({ path, next, searching, records })),
      ordinal: this.ordinal,
      position: this.position,
      plan: this.plan.save(),
      kinds: [...this.kinds],
      notShown: [...this.info.notShown],
    };
  }

  /**
   * Goes on from a saved point, before the first poll: the files it names are read only after
   * their `next` offsets (the caller checked they are the same files, unchanged up to there).
   */
  resume(state: TfeventsResumeState): void {
    this.cursors = state.files.map((file) => ({ ...file, tornAt: undefined, reported: file.next - 1 }));
    this.ordinal = state.ordinal;
    this.position = state.position;
    this.plan.restore(state.plan);
    for (const [tag, kind] of state.kinds) this.kinds.set(tag, kind);
    for (const [tag, kind] of state.notShown) this.info.notShown.set(tag, kind);
  }

  async poll(): Promise<boolean> {
    const read = this.readNew();
    if (this.plan.takeAdded() > 0) this.readAgain();
    return read;
  }

  /** Reports a torn last record, for a reader that reads once (the writer is not coming back). */
  finish(): void {
    for (const file of this.cursors) {
      if (file.tornAt === undefined) continue;
      this.report(
        file,
        file.tornAt,
        file.records + 1,
        'the file ends inside this record (writer still running, or killed); the whole records before it are read',
      );
    }
  }

  async close(): Promise<void> {
    // Files are opened per read and closed at once: nothing is held.
  }

  /** The run's event files, in the order TensorBoard reads them. */
  listFiles(): string[] {
    if (this.single) return [this.options.path];
    return listDir(this.options.path)
      .filter((entry) => entry.isFile() && EVENT_FILE.test(entry.name))
      .map((entry) => entry.name)
      .sort()
      .map((name) => path.join(this.options.path, name));
  }

  private readNew(): boolean {
    const known = new Set(this.cursors.map((file) => file.path));
    for (const file of this.listFiles()) {
      if (!known.has(file)) {
        this.cursors.push({
          path: file,
          next: 0,
          searching: false,
          records: 0,
          tornAt: undefined,
          reported: -1,
        });
      }
    }
    let read = false;
    for (const file of this.cursors) read = this.readFile(file) || read;
    return read;
  }

  /** A restart was found: the run is read again from its start, with the plan applied. */
  private readAgain(): void {
    this.options.sink.reset();
    this.plan.rewind();
    this.ordinal = 0;
    this.position = 0;
    for (const file of this.cursors) {
      Object.assign(file, { next: 0, searching: false, records: 0, tornAt: undefined });
      this.readFile(file);
    }
  }

  private report(file: FileCursor, offset: number, record: number, reason: string): void {
    if (offset <= file.reported) return;
    file.reported = offset;
    this.options.sink.problem({ file: file.path, offset, record, reason });
  }

  private readFile(file: FileCursor): boolean {
    const fd = openIfExists(file.path);
    if (fd === undefined) return false;
    let read = false;
    try {
      const size = fs.fstatSync(fd).size;
      if (size < file.next) {
        // Truncated and rewritten: TensorBoard would not notice; read the new content from the start.
        file.next = 0;
        file.records = 0;
      }
      let chunk = Buffer.allocUnsafe(
        Math.min(this.options.chunkBytes ?? CHUNK_BYTES, Math.max(size - file.next, 0)),
      );
      while (file.next < size) {
        const want = Math.min(chunk.length, size - file.next);
        const got = fs.readSync(fd, chunk, 0, want, file.next);
        if (got === 0) break;
        this.bytesRead += got;
        const bytes = chunk.subarray(0, got);
        const scan = scanChunk(bytes, file.next, file.searching);
        for (const damage of scan.damage) this.report(file, damage.offset, 0, damage.reason);
        for (const record of scan.records) {
          file.records++;
          read = true;
          this.readRecord(file, record.offset, record.payload);
          this.position += RECORD_FRAME_BYTES + record.payload.length;
        }
        const progressed = scan.next > file.next;
        file.next = scan.next;
        file.searching = scan.searching;
        if (!progressed && !scan.searching) {
          // A record longer than the buffer: grow it to fit, unless the file does not hold it yet.
          const need = recordBytes(bytes, 0);
          if (need === undefined || file.next + need > size) break;
          chunk = Buffer.allocUnsafe(need);
        }
      }
      file.tornAt = file.next < size && !file.searching ? file.next : undefined;
    } finally {
      fs.closeSync(fd);
    }
    return read;
  }

  private readRecord(file: FileCursor, offset: number, payload: Buffer): void {
    const simple = this.simple;
    if (simple.decode(payload)) {
      for (let i = 0; i < simple.count; i++) {
        const tagId = simple.tagIds[i] as number;
        let known = this.byTagId[tagId];
        if (known === undefined) {
          const tag = simple.tags.name(tagId);
          known = { tag, ...this.idOf(tag) };
          this.byTagId[tagId] = known;
        }
        this.offer(known.tag, known, simple.step, simple.wallTime, simple.values[i] as number);
      }
      return;
    }
    let event: DecodedEvent;
    try {
      event = decodeEvent(payload);
    } catch (error) {
      if (!(error instanceof ProtoDecodeError)) throw error;
      this.report(file, offset, file.records, `not a TensorFlow Event (${errorText(error)}); skipped`);
      return;
    }
    if (event.values === undefined) return;
    const step = event.step;
    const stepNumber = Number(step);
    const exactStep = Number.isSafeInteger(stepNumber) ? stepNumber : step;
    for (const value of event.values) {
      const reading = readValue(value, this.kinds);
      if (reading === undefined) continue;
      if ('notShown' in reading) {
        if (!this.info.notShown.has(value.tag)) this.info.notShown.set(value.tag, reading.notShown);
        continue;
      }
      this.offer(value.tag, this.idOf(value.tag), exactStep, event.wallTime, reading.scalar);
    }
  }

  /** One scalar: kept or dropped by the restart plan, then handed to the sink. */
  private offer(tag: string, id: MetricId, step: number | bigint, wallTime: number, value: number): void {
    if (!this.plan.offer(tag, this.ordinal++, Number(step))) return;
    const sink = this.options.sink;
    sink.visitor.scalar(id.phase, id.id, sink.run, step, wallTime, value);
  }

  private idOf(tag: string): MetricId {
    let id = this.ids.get(tag);
    if (id === undefined) {
      const place = phaseOf(tag);
      // A run folder named eval or system (ours write runs/<run>/{train,eval,system}, and so do many
      // training scripts) holds that phase's scalars under their bare names.
      const { phase, name } = place.phase === PHASE_TRAIN ? { phase: this.folderPhase, name: tag } : place;
      id = { phase, id: this.options.sink.names.idOfString(name) };
      this.ids.set(tag, id);
    }
    return id;
  }
}

function isFile(file: string): boolean {
  try {
    return fs.statSync(file).isFile();
  } catch (error) {
    if (errnoCode(error) === 'ENOENT') return false;
    throw error;
  }
}
