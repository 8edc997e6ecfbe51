/** Input checks for the bookkeeping metrics (small inputs: plain arrays of finite numbers). */
import { describe, fail } from '../errors.js';

/** A non-empty array (or typed array) of non-NaN numbers, copied to a number[]. */
export function scoresOf(value: unknown, argument: string, min = 1): number[] {
  if (!(Array.isArray(value) || value instanceof Float32Array || value instanceof Float64Array)) {
    fail('E_DTYPE', argument, 'an array of numbers', describe(value));
  }
  const v = value as ArrayLike<unknown>;
  if (v.length < min) fail('E_SHAPE', argument, `at least ${min} value${min === 1 ? '' : 's'}`, `length ${v.length}`);
  const out: number[] = [];
  for (let i = 0; i < v.length; i++) {
    const x = v[i];
    if (typeof x !== 'number' || Number.isNaN(x)) fail('E_VALUE', `${argument}[${i}]`, 'a number (not NaN)', describe(x));
    out.push(x);
  }
  return out;
}

/** An array of rows (non-empty arrays of numbers). */
export function rowsOf(value: unknown, argument: string): number[][] {
  if (!Array.isArray(value) || value.length === 0) fail('E_SHAPE', argument, 'a non-empty array of rows', describe(value));
  return value.map((r, i) => scoresOf(r, `${argument}[${i}]`));
}

export const mean = (x: readonly number[]): number => x.reduce((a, b) => a + b, 0) / x.length;
