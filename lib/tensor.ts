/** Input checks shared by every op: each returns a normalised value or throws a RewardkitError. */
import { describe, fail } from './errors.js';

export type Mask = Uint8Array | Float32Array;
export type IndexArray = Uint32Array | Int32Array | number[];

/** A non-negative safe integer (sizes, counts). */
export function checkSize(value: unknown, argument: string, min = 0): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min) {
    fail('E_VALUE', argument, `an integer >= ${min}`, describe(value));
  }
  return value;
}

/** A finite number, optionally bounded below (strictly). */
export function checkFinite(value: unknown, argument: string, above?: number): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || (above !== undefined && !(value > above))) {
    fail('E_VALUE', argument, above === undefined ? 'a finite number' : `a finite number > ${above}`, describe(value));
  }
  return value;
}

export function checkEnum<T extends string>(value: unknown, argument: string, allowed: readonly T[]): T {
  if (typeof value !== 'string' || !(allowed as readonly string[]).includes(value)) {
    fail('E_VALUE', argument, `one of ${allowed.map((a) => `'${a}'`).join(', ')}`, describe(value));
  }
  return value as T;
}

/**
 * Float scores: Float32Array as is; Float64Array or number[] rounded to f32 (the precision the
 * reference implementations compute in).
 */
export function toFloat32(value: unknown, argument: string): Float32Array {
  if (value instanceof Float32Array) return value;
  if (value instanceof Float64Array || Array.isArray(value)) {
    const out = new Float32Array(value.length);
    for (let i = 0; i < value.length; i++) {
      const v = value[i];
      if (typeof v !== 'number') fail('E_DTYPE', `${argument}[${i}]`, 'a number', describe(v));
      out[i] = v;
    }
    return out;
  }
  return fail('E_DTYPE', argument, 'a Float32Array, Float64Array or number[]', describe(value));
}

/** A mask: Uint8Array (0/1, bool-as-u8) or Float32Array; any nonzero value marks a trained token. */
export function checkMask(value: unknown, argument: string): Mask {
  if (value instanceof Uint8Array || value instanceof Float32Array) return value;
  return fail('E_DTYPE', argument, 'a Uint8Array or Float32Array mask', describe(value));
}

/** Integer labels: Uint32Array, Int32Array, or a number[] whose every element is a safe integer. */
export function checkIntegers(value: unknown, argument: string): ArrayLike<number> {
  if (value instanceof Uint32Array || value instanceof Int32Array) return value;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const v = value[i];
      if (typeof v !== 'number' || !Number.isSafeInteger(v)) fail('E_VALUE', `${argument}[${i}]`, 'an integer', describe(v));
    }
    return value as number[];
  }
  return fail('E_DTYPE', argument, 'a Uint32Array, Int32Array or number[] of integers', describe(value));
}

/**
 * CSR row offsets [B+1]: start at 0, never decrease. Returned as Uint32Array (what the native and
 * GPU kernels read).
 */
export function checkOffsets(value: unknown, argument: string): Uint32Array {
  // A Uint32Array is used as is (one monomorphic pass): the common case at 1M+ rows.
  if (value instanceof Uint32Array && value.length >= 2 && value[0] === 0) {
    let i = 1;
    while (i < value.length && value[i]! >= value[i - 1]!) i++;
    if (i === value.length) return value;
  }
  const ints = checkIntegers(value, argument);
  if (ints.length < 2) fail('E_SHAPE', argument, 'at least 2 offsets (B+1 for B >= 1 rows)', `${ints.length}`);
  if (ints[0] !== 0) fail('E_VALUE', `${argument}[0]`, '0', describe(ints[0]));
  const out = new Uint32Array(ints.length);
  for (let i = 0; i < ints.length; i++) {
    const v = ints[i]!;
    if (v < 0 || v > 0xffffffff) fail('E_RANGE', `${argument}[${i}]`, 'an offset in [0, 2^32)', describe(v));
    if (i > 0 && v < ints[i - 1]!) fail('E_VALUE', `${argument}[${i}]`, `a value >= ${argument}[${i - 1}] = ${ints[i - 1]} (offsets never decrease)`, describe(v));
    out[i] = v;
  }
  return out;
}
