/**
 * Reads TensorBoard's `/data/plugin/scalars/scalars` answer, `[[wall_time, step, value], ...]`, as
 * it streams in, and checks its steps against 0..expected-1 without holding the answer: at
 * 10,000,000 points it is about 400 MB, near V8's longest string, and its parsed arrays would take
 * GBs. Every point's three numbers are scanned; the step is read exactly, wall time and value are
 * only required to be present (a number, or TensorBoard's "NaN" / "Infinity" strings).
 */

export interface ScalarPointsCheck {
  points: number;
  /** Steps seen exactly once among 0..expected-1. */
  distinctInRange: number;
  duplicates: number;
  outOfRange: number;
  /** Points that did not hold exactly three values; first message only. */
  malformed: number;
  firstProblem: string | undefined;
  minStep: number;
  maxStep: number;
}

const OPEN = 0x5b; // [
const CLOSE = 0x5d; // ]
const COMMA = 0x2c;

export class ScalarPointsCounter {
  private readonly seen: Uint8Array;
  private depth = 0;
  /** Index of the value being read inside the current point (0 wall, 1 step, 2 value). */
  private field = 0;
  private stepText = '';
  private fieldHasText = false;
  private readonly check: ScalarPointsCheck = {
    points: 0,
    distinctInRange: 0,
    duplicates: 0,
    outOfRange: 0,
    malformed: 0,
    firstProblem: undefined,
    minStep: Number.POSITIVE_INFINITY,
    maxStep: Number.NEGATIVE_INFINITY,
  };

  constructor(private readonly expected: number) {
    this.seen = new Uint8Array(expected);
  }

  push(chunk: Uint8Array): void {
    for (let i = 0; i < chunk.length; i++) {
      const byte = chunk[i] as number;
      if (byte === OPEN) {
        this.depth++;
        if (this.depth === 2) {
          this.field = 0;
          this.stepText = '';
          this.fieldHasText = false;
        }
      } else if (byte === CLOSE) {
        if (this.depth === 2) this.endPoint();
        this.depth--;
      } else if (this.depth === 2) {
        if (byte === COMMA) {
          if (!this.fieldHasText) this.problem(`point ${this.check.points}: an empty value`);
          this.field++;
          this.fieldHasText = false;
        } else if (byte !== 0x20 && byte !== 0x0a && byte !== 0x0d && byte !== 0x09) {
          this.fieldHasText = true;
          if (this.field === 1) this.stepText += String.fromCharCode(byte);
        }
      }
    }
  }

  private endPoint(): void {
    const check = this.check;
    if (this.field !== 2 || !this.fieldHasText) {
      this.problem(`point ${check.points}: ${this.field + 1} values, not 3`);
      check.points++;
      return;
    }
    check.points++;
    const step = Number(this.stepText);
    if (!Number.isInteger(step)) {
      this.problem(`point ${check.points - 1}: step ${JSON.stringify(this.stepText)} is not an integer`);
      return;
    }
    check.minStep = Math.min(check.minStep, step);
    check.maxStep = Math.max(check.maxStep, step);
    if (step < 0 || step >= this.expected) {
      check.outOfRange++;
      return;
    }
    if (this.seen[step] === 1) check.duplicates++;
    else {
      this.seen[step] = 1;
      check.distinctInRange++;
    }
  }

  private problem(message: string): void {
    this.check.malformed++;
    this.check.firstProblem ??= message;
  }

  /** The points read so far, for an answer cut off (a deadline) before its end. */
  progress(): ScalarPointsCheck {
    return { ...this.check };
  }

  /** The verdict once the answer has ended; throws if the array never closed. */
  finish(): ScalarPointsCheck {
    if (this.depth !== 0) throw new Error(`the answer ended inside its array (depth ${this.depth})`);
    return { ...this.check };
  }
}
