/**
 * Reads a tfevents file, verifying both CRCs of every record. A CRC mismatch is an error naming
 * the file and byte offset (TensorBoard would silently stop there); a truncated final record is
 * a warning (TensorBoard waits for the writer to finish it).
 */
import fs from 'node:fs';
import { TelemetryError } from '../../errors.js';
import { ProtoDecodeError } from '../../formats/codec/proto-reader.js';
import { scanRecords } from '../../formats/codec/tfrecord.js';
import { decodeEvent, type DecodedEvent } from '../../formats/tensorboard/event-decoder.js';

export interface EventFile {
  events: DecodedEvent[];
  /** The file ends inside a record: what came before it is whole and verified. */
  truncated: boolean;
  /** Set when the file ends inside a record (byte offset of that record). */
  truncatedAt?: number;
  warnings: string[];
}

export function readEventBytes(bytes: Buffer, name = '<bytes>'): EventFile {
  const scan = scanRecords(bytes);
  if (!scan.ok) {
    const what = scan.reason === 'length_crc' ? 'length CRC' : 'data CRC';
    throw new TelemetryError(
      'TFEVENTS_CORRUPT',
      `${name}: record ${scan.records.length} at byte offset ${scan.offset} has a bad ${what}; the file is corrupt from there on`,
    );
  }
  const events = scan.records.map((record, index) => {
    try {
      return decodeEvent(record.payload);
    } catch (error) {
      // Only malformed bytes become bad input; any other error would be a bug of ours.
      if (!(error instanceof ProtoDecodeError)) throw error;
      throw new TelemetryError(
        'TFEVENTS_CORRUPT',
        `${name}: record ${index} at byte offset ${record.offset} is not a valid Event protobuf (${error.message})`,
        { cause: error },
      );
    }
  });
  const warnings: string[] = [];
  if (scan.truncatedAt !== undefined) {
    warnings.push(
      `${name}: truncated record at byte offset ${scan.truncatedAt} (writer still running or killed); read ${events.length} whole records`,
    );
  }
  return scan.truncatedAt === undefined
    ? { events, truncated: false, warnings }
    : { events, truncated: true, truncatedAt: scan.truncatedAt, warnings };
}

/** Reads a file by path, or bytes already in memory (named `<bytes>` in errors). */
export function readEventFile(source: string | Uint8Array): EventFile {
  if (typeof source !== 'string') {
    return readEventBytes(Buffer.from(source.buffer, source.byteOffset, source.byteLength));
  }
  return readEventBytes(fs.readFileSync(source), source);
}
