/**
 * When a stream starts a new file: past a size, or past an age. Shared by the NDJSON streams and
 * the TensorBoard event files so both sinks read their limits the same way.
 */
import { ConfigError } from '../../errors.js';

export interface RotationPolicyOptions {
  /** Rotate once the active file holds at least this many bytes; 0 = never. */
  maxBytes?: number;
  /** Rotate once the active file is this many seconds old; 0 = never. */
  maxSeconds?: number;
}

export class RotationPolicy {
  readonly maxBytes: number;
  readonly maxSeconds: number;

  constructor(options: RotationPolicyOptions = {}) {
    this.maxBytes = options.maxBytes ?? 0;
    this.maxSeconds = options.maxSeconds ?? 0;
    if (!Number.isInteger(this.maxBytes) || this.maxBytes < 0) {
      throw new ConfigError('rotateBytes', options.maxBytes, 'an integer >= 0 (0 = no size rotation)');
    }
    if (!Number.isFinite(this.maxSeconds) || this.maxSeconds < 0) {
      throw new ConfigError(
        'rotateSeconds',
        options.maxSeconds,
        'a number of seconds >= 0 (0 = no time rotation)',
      );
    }
  }

  get enabled(): boolean {
    return this.maxBytes > 0 || this.maxSeconds > 0;
  }

  /** `openedAtMs`/`nowMs` are wall-clock milliseconds. */
  shouldRotate(sizeBytes: number, openedAtMs: number, nowMs: number): boolean {
    if (this.maxBytes > 0 && sizeBytes >= this.maxBytes) return true;
    return this.maxSeconds > 0 && nowMs - openedAtMs >= this.maxSeconds * 1000;
  }
}
