/**
 * Turns a `log()` argument into row columns, keeping only numbers. The hot path: one pass, two
 * arrays, no intermediate objects.
 */
import type { Scalars } from './scalars.js';

export interface Columns {
  names: string[];
  values: number[];
  /** The first non-number value's name, for one warning. */
  skipped: string | undefined;
  skippedType: string | undefined;
}

export function toColumns(values: Scalars): Columns {
  const names = Object.keys(values);
  const numbers = new Array<number>(names.length);
  let kept = 0;
  let skipped: string | undefined;
  let skippedType: string | undefined;
  for (let i = 0; i < names.length; i++) {
    const name = names[i] as string;
    const value = values[name];
    if (typeof value !== 'number') {
      skipped ??= name;
      skippedType ??= typeof value;
      continue;
    }
    names[kept] = name;
    numbers[kept++] = value;
  }
  names.length = kept;
  numbers.length = kept;
  return { names, values: numbers, skipped, skippedType };
}
