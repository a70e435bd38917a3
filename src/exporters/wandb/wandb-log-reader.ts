/**
 * Reads a `run-<id>.wandb` transaction log back into Records.
 *
 * Strict (the default) rejects any damage with a TelemetryError (`WANDB_CORRUPT`) naming the file
 * and byte offset, as W&B's own readers do. Tolerant mode returns the whole records before the
 * damage plus a description of it: what a crashed writer leaves is readable "up to the last
 * whole record".
 */
import fs from 'node:fs';
import { TelemetryError } from '../../errors.js';
import { decodeRecord } from '../../formats/wandb/record-codec.js';
import { recordType, type RecordType, type WandbRecord } from '../../formats/wandb/record-types.js';
import { scanWandbLog, type ScanDamage } from '../../formats/wandb/log-scan.js';

export interface ReadRecord {
  /** File offset where the record starts (padding before it included) and just past its end. */
  start: number;
  end: number;
  payloadLength: number;
  type: RecordType | undefined;
  record: WandbRecord;
}

export interface WandbLog {
  records: ReadRecord[];
  /** Size of the file in bytes. */
  size: number;
  /** Set (tolerant mode only) when reading stopped early. */
  damage?: ScanDamage;
}

export interface ReadWandbLogOptions {
  /** Throw on damage (default). With `false`, return what precedes it and describe it. */
  strict?: boolean;
  /** Name used in messages when `source` is bytes. */
  name?: string;
}

export function readWandbLog(source: string | Uint8Array, options: ReadWandbLogOptions = {}): WandbLog {
  const name = typeof source === 'string' ? source : (options.name ?? '<bytes>');
  const bytes = typeof source === 'string' ? fs.readFileSync(source) : source;
  const scan = scanWandbLog(bytes);
  const records: ReadRecord[] = [];
  let damage = scan.damage;
  for (const scanned of scan.records) {
    let record: WandbRecord;
    try {
      record = decodeRecord(scanned.payload);
    } catch (error) {
      if (!(error instanceof Error)) throw error;
      damage = {
        kind: 'corrupt',
        offset: scanned.start,
        message: `record ${records.length + 1} is not a valid wandb_internal.Record (${error.message})`,
      };
      break;
    }
    records.push({
      start: scanned.start,
      end: scanned.end,
      payloadLength: scanned.payload.byteLength,
      type: recordType(record),
      record,
    });
  }
  if (damage !== undefined && (options.strict ?? true)) {
    throw new TelemetryError(
      'WANDB_CORRUPT',
      `${name}: ${damage.kind} at byte offset ${damage.offset}: ${damage.message}; ${records.length} whole records precede it`,
    );
  }
  return damage === undefined
    ? { records, size: bytes.byteLength }
    : { records, size: bytes.byteLength, damage };
}
