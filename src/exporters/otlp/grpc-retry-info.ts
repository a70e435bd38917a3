/**
 * The delay a gRPC server asks for: a `google.rpc.RetryInfo` inside the `google.rpc.Status` that
 * travels, serialized, in the `grpc-status-details-bin` trailer (the gRPC form of `Retry-After`,
 * which the OTLP exporter spec asks clients to honour). Decoded by hand: three small messages do
 * not justify loading their .proto files.
 *
 *   Status    { int32 code = 1; string message = 2; repeated Any details = 3; }
 *   Any       { string type_url = 1; bytes value = 2; }
 *   RetryInfo { Duration retry_delay = 1; }
 *   Duration  { int64 seconds = 1; int32 nanos = 2; }
 */

const RETRY_INFO_TYPE = 'type.googleapis.com/google.rpc.RetryInfo';

interface Field {
  no: number;
  varint?: number;
  bytes?: Uint8Array;
}

/** The fields of one protobuf message; undefined when the bytes are not a well-formed message. */
function fieldsOf(buffer: Uint8Array): Field[] | undefined {
  const fields: Field[] = [];
  let at = 0;
  const varint = (): number | undefined => {
    let value = 0;
    for (let shift = 0; shift < 64; shift += 7) {
      if (at >= buffer.length) return undefined;
      const byte = buffer[at++] as number;
      value += (byte & 0x7f) * 2 ** shift;
      if (byte < 0x80) return value;
    }
    return undefined;
  };
  while (at < buffer.length) {
    const key = varint();
    if (key === undefined) return undefined;
    const no = Math.floor(key / 8);
    switch (key % 8) {
      case 0: {
        const value = varint();
        if (value === undefined) return undefined;
        fields.push({ no, varint: value });
        break;
      }
      case 1:
        at += 8;
        break;
      case 2: {
        const length = varint();
        if (length === undefined || at + length > buffer.length) return undefined;
        fields.push({ no, bytes: buffer.subarray(at, at + length) });
        at += length;
        break;
      }
      case 5:
        at += 4;
        break;
      default:
        return undefined;
    }
  }
  return at === buffer.length ? fields : undefined;
}

/** Milliseconds from a serialized google.rpc.Status's RetryInfo, or undefined when it has none. */
export function retryDelayFromStatusDetails(details: Uint8Array): number | undefined {
  for (const detail of fieldsOf(details) ?? []) {
    if (detail.no !== 3 || detail.bytes === undefined) continue;
    const any = fieldsOf(detail.bytes) ?? [];
    const typeUrl = any.find((f) => f.no === 1)?.bytes;
    const value = any.find((f) => f.no === 2)?.bytes;
    if (typeUrl === undefined || value === undefined) continue;
    if (Buffer.from(typeUrl).toString('utf8') !== RETRY_INFO_TYPE) continue;
    const delay = (fieldsOf(value) ?? []).find((f) => f.no === 1)?.bytes;
    if (delay === undefined) return 0;
    const duration = fieldsOf(delay) ?? [];
    const seconds = duration.find((f) => f.no === 1)?.varint ?? 0;
    const nanos = duration.find((f) => f.no === 2)?.varint ?? 0;
    return seconds * 1000 + nanos / 1e6;
  }
  return undefined;
}
