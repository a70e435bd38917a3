/**
 * Reads a tfevents file, verifying both CRCs of every record. A CRC mismatch is an error naming
 * the file and byte offset (TensorBoard would silently stop there); a truncated final record is
 * a warning (TensorBoard waits for the writer to finish it).
 */
import fs from 'node:fs';
import { TelemetryError } from '../../errors.js';
import { scanRecords } from '../codec/tfrecord.js';
import { decodeEvent, type DecodedEvent } from './event-decoder.js';

export interface EventFile {
  events: DecodedEvent[];
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
      throw new TelemetryError(
        'TFEVENTS_CORRUPT',
        `${name}: record ${index} at byte offset ${record.offset} is not a valid Event protobuf (${(error as Error).message})`,
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
    ? { events, warnings }
    : { events, truncatedAt: scan.truncatedAt, warnings };
}

export function readEventFile(file: string): EventFile {
  return readEventBytes(fs.readFileSync(file), file);
}
