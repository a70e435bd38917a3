/**
 * The hot path: one HistoryRecord per logged step, encoded straight into its framed buffer.
 * It writes the same bytes as the schema-driven encoder (a test holds them equal), but caches each
 * key's encoded prefix, sizes the record first and writes it once, with no intermediate buffers.
 *
 * Record{num=1, history=2{item=1{key=1, value_json=16}..., step=2{num=1}}}
 */
import type { Step } from '../../step.js';
import type { WandbLogEncoder } from './log-framing.js';
import { ProtoWriter } from '../codec/proto-writer.js';
import { varint32Length as varintLength, writeVarint32 } from '../codec/protobuf-wire.js';

const TAG_NUM = 0x08;
const TAG_HISTORY = 0x12;
const TAG_ITEM = 0x0a;
const TAG_KEY = 0x0a;
const TAG_STEP = 0x12;
const TAG_STEP_NUM = 0x08;
/** value_json is field 16: its tag takes two bytes. */
const TAG_VALUE_JSON = [0x82, 0x01] as const;
/** Bound on cached key prefixes, so a run that invents names forever cannot grow memory forever. */
const MAX_CACHED_KEYS = 50_000;

export class HistoryEncoder {
  private readonly prefixes = new Map<string, Buffer>();
  private readonly scratch = new ProtoWriter(16);

  /**
   * Frames one HistoryRecord. `valuesJson` are `value_json` strings, which must be ASCII (numbers
   * and bare NaN/Infinity are); keys may be any text. `num` stays below 2^32 (four billion
   * records per file).
   */
  encode(
    framer: WandbLogEncoder,
    num: number,
    step: Step,
    keys: readonly string[],
    valuesJson: readonly string[],
  ): Buffer {
    const prefixes: Buffer[] = new Array<Buffer>(keys.length);
    let itemsLength = 0;
    for (let i = 0; i < keys.length; i++) {
      const prefix = this.prefix(keys[i] as string);
      prefixes[i] = prefix;
      const valueLength = (valuesJson[i] as string).length;
      const itemLength = prefix.length + varintLength(valueLength) + valueLength;
      itemsLength += 1 + varintLength(itemLength) + itemLength;
    }
    const stepBytes =
      step === 0 || step === 0n ? undefined : Buffer.from(this.scratch.reset().varint64(step).finish());
    const stepLength = stepBytes === undefined ? 0 : 1 + stepBytes.length;
    const historyLength = itemsLength + 1 + varintLength(stepLength) + stepLength;
    const recordLength = 1 + varintLength(num) + 1 + varintLength(historyLength) + historyLength;
    return framer.encodeWith(recordLength, (out, start) => {
      let pos = start;
      out[pos++] = TAG_NUM;
      pos = writeVarint32(out, pos, num);
      out[pos++] = TAG_HISTORY;
      pos = writeVarint32(out, pos, historyLength);
      for (let i = 0; i < keys.length; i++) {
        const prefix = prefixes[i] as Buffer;
        const value = valuesJson[i] as string;
        out[pos++] = TAG_ITEM;
        pos = writeVarint32(out, pos, prefix.length + varintLength(value.length) + value.length);
        pos += prefix.copy(out, pos);
        pos = writeVarint32(out, pos, value.length);
        pos += out.write(value, pos, value.length, 'latin1');
      }
      out[pos++] = TAG_STEP;
      pos = writeVarint32(out, pos, stepLength);
      if (stepBytes !== undefined) {
        out[pos++] = TAG_STEP_NUM;
        stepBytes.copy(out, pos);
      }
    });
  }

  /** `key=1` then the two-byte `value_json` tag: everything in an item that depends on the key only. */
  private prefix(key: string): Buffer {
    let prefix = this.prefixes.get(key);
    if (prefix !== undefined) return prefix;
    const keyBytes = Buffer.from(key, 'utf8');
    prefix = Buffer.allocUnsafe(1 + varintLength(keyBytes.length) + keyBytes.length + 2);
    let pos = 0;
    prefix[pos++] = TAG_KEY;
    pos = writeVarint32(prefix, pos, keyBytes.length);
    pos += keyBytes.copy(prefix, pos);
    prefix[pos++] = TAG_VALUE_JSON[0];
    prefix[pos] = TAG_VALUE_JSON[1];
    if (this.prefixes.size < MAX_CACHED_KEYS) this.prefixes.set(key, prefix);
    return prefix;
  }
}
