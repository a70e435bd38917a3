/**
 * NDJSON schema v1 line encoding (docs/ndjson-schema.md), built by string concatenation with
 * cached JSON fragments: on the hot path this is several times faster than JSON.stringify of an
 * object, and it keeps int64 steps and non-finite values exact, which JSON.stringify cannot.
 */
import type { Step, StepRow } from '../../step.js';

export const NDJSON_SCHEMA_VERSION = 1;
/** How every line we write starts: the schema version, then the timestamp's key. */
export const LINE_HEAD = `{"v":${NDJSON_SCHEMA_VERSION},"ts":`;

/** Non-finite values have no JSON literal; the schema spells them as these strings. */
export function encodeValue(value: number): string {
  if (Number.isFinite(value)) return Object.is(value, -0) ? '-0' : String(value);
  if (Number.isNaN(value)) return '"NaN"';
  return value > 0 ? '"Infinity"' : '"-Infinity"';
}

export function encodeStep(step: Step): string {
  return typeof step === 'bigint' ? step.toString() : String(step);
}

/** Unix seconds with microsecond resolution. */
export function encodeTs(ts: number): string {
  return String(Math.round(ts * 1e6) / 1e6);
}

export interface LineEncoderOptions {
  runId: string;
  /** Extra tags written after `phase` on every line (e.g. rank). Values must be JSON-safe. */
  extraTags?: Record<string, string | number>;
}

/**
 * Where the lines of encoded rows end, for a caller that indexes them (the NDJSON sink's run
 * index): the encoder knows each line's length as it builds it, where finding it again means
 * scanning the text for newlines.
 */
export interface LineEnds {
  /** `at[i]`: where line i ends (after its newline), in UTF-16 units of the caller's chunk. */
  readonly at: number[];
  /** Lines recorded. */
  count: number;
}

export class LineEncoder {
  private readonly afterTs: string;
  private readonly nameCache = new Map<string, string>();
  private readonly namePartCache = new Map<string, string>();
  private readonly tagsCache = new Map<string, string>();
  private readonly extraTags: string;

  constructor(options: LineEncoderOptions) {
    this.afterTs = `,"run_id":${JSON.stringify(options.runId)},"step":`;
    const extra = options.extraTags ?? {};
    this.extraTags = Object.keys(extra)
      .map((key) => `,${JSON.stringify(key)}:${JSON.stringify(extra[key])}`)
      .join('');
  }

  /**
   * Encodes a row: one line per scalar, or one snapshot line for a system sample. With `ends`, the
   * end of each line is recorded there, counted from `base` (where the row starts in the chunk).
   */
  encodeRow(row: StepRow, ends?: LineEnds, base = 0): string {
    const head = `${LINE_HEAD}${encodeTs(row.ts)}${this.afterTs}${encodeStep(row.step)}`;
    const tail = this.tags(row.phase);
    if (row.phase === 'system') {
      let values = '';
      for (let i = 0; i < row.names.length; i++) {
        values += `${i === 0 ? '' : ','}${this.jsonName(row.names[i] as string)}:${encodeValue(row.values[i] as number)}`;
      }
      const line = `${head},"name":"system","values":{${values}}${tail}`;
      if (ends !== undefined) ends.at[ends.count++] = base + line.length;
      return line;
    }
    let out = '';
    for (let i = 0; i < row.names.length; i++) {
      out += head + this.namePart(row.names[i] as string) + encodeValue(row.values[i] as number) + tail;
      if (ends !== undefined) ends.at[ends.count++] = base + out.length;
    }
    return out;
  }

  /** `,"name":<json>,"value":` cached per name: most of a line is this constant text. */
  private namePart(name: string): string {
    let part = this.namePartCache.get(name);
    if (part === undefined) {
      part = `,"name":${JSON.stringify(name)},"value":`;
      this.namePartCache.set(name, part);
    }
    return part;
  }

  private jsonName(name: string): string {
    let json = this.nameCache.get(name);
    if (json === undefined) {
      json = JSON.stringify(name);
      this.nameCache.set(name, json);
    }
    return json;
  }

  private tags(phase: string): string {
    let json = this.tagsCache.get(phase);
    if (json === undefined) {
      json = `,"tags":{"phase":${JSON.stringify(phase)}${this.extraTags}}}\n`;
      this.tagsCache.set(phase, json);
    }
    return json;
  }
}
