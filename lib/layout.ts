/**
 * Token layouts every token-level op accepts (SPEC.md §1.3), normalised to one form the kernels
 * read: CSR row offsets (padded rows are offsets i·T) plus an optional 0/1 byte mask.
 *
 * - padded: `mask` [B·T] (Uint8Array incl. bool-as-u8, Float32Array or Int32Array; nonzero = trained
 *   token) with `shape: [B, T]`;
 * - packed: `offsets` [B+1] (CSR over a flat token array), optionally with a `mask` over those tokens
 *   (every token is trained when it is absent).
 */
import { describe, fail } from './errors.js';
import { checkIntegers, checkOffsets, checkSize, type IndexArray } from './tensor.js';

export type MaskInput = Uint8Array | Float32Array | Int32Array;

export interface LayoutOptions {
  /** Padded: [B·T] row-major; packed: optional, [offsets[B]]. Nonzero = trained token. */
  mask?: MaskInput;
  /** Padded layout: [B, T]. */
  shape?: readonly [number, number];
  /** Packed layout: CSR row offsets [B+1]. */
  offsets?: IndexArray;
}

export interface TokenLayout {
  rows: number;
  /** T for the padded layout, 0 for packed. */
  cols: number;
  /** B·T (padded) or offsets[B] (packed); < 2^32. */
  tokens: number;
  /** Row i's tokens are [offsets[i], offsets[i+1]); always present (i·T for padded). */
  offsets: Uint32Array;
  /** 0/1 per token, or null when every token is trained (packed without a mask). */
  mask: Uint8Array | null;
}

/** A mask as 0/1 bytes. A Uint8Array is used as is (nonzero = trained, as verl's bool masks). */
export function maskBytes(value: unknown, argument: string): Uint8Array {
  if (value instanceof Uint8Array) return value;
  if (value instanceof Float32Array || value instanceof Int32Array) {
    const out = new Uint8Array(value.length);
    for (let i = 0; i < value.length; i++) {
      const v = value[i]!;
      if (Number.isNaN(v)) fail('E_VALUE', `${argument}[${i}]`, 'a mask value (0 or nonzero)', 'NaN');
      out[i] = v !== 0 ? 1 : 0;
    }
    return out;
  }
  return fail('E_DTYPE', argument, 'a Uint8Array, Float32Array or Int32Array mask', describe(value));
}

/** Validate mask+shape or offsets(+mask) and normalise them into a TokenLayout. */
export function prepareLayout(options: LayoutOptions, minRows = 1): TokenLayout {
  let rows: number, cols: number, tokens: number, offsets: Uint32Array;
  let mask: Uint8Array | null = null;
  if (options.offsets !== undefined) {
    if (options.shape !== undefined) fail('E_VALUE', 'offsets', 'either offsets (packed) or mask and shape (padded), not both', 'both');
    offsets = checkOffsets(options.offsets, 'offsets');
    rows = offsets.length - 1;
    cols = 0;
    tokens = offsets[rows]!;
    if (options.mask !== undefined) {
      mask = maskBytes(options.mask, 'mask');
      if (mask.length !== tokens) fail('E_SHAPE', 'mask', `length offsets[B] = ${tokens}`, `length ${mask.length}`);
    }
  } else {
    if (options.mask === undefined) fail('E_VALUE', 'mask', 'a mask with shape [B, T] (padded) or offsets (packed)', 'neither');
    const shape = options.shape;
    if (!Array.isArray(shape) || shape.length !== 2) fail('E_SHAPE', 'shape', '[B, T]', describe(shape));
    rows = checkSize(shape[0], 'shape[0]', minRows);
    cols = checkSize(shape[1], 'shape[1]', 1);
    tokens = rows * cols;
    if (tokens > 2 ** 32 - 1) fail('E_RANGE', 'shape', 'B*T < 2^32', `${rows}*${cols}`);
    mask = maskBytes(options.mask, 'mask');
    if (mask.length !== tokens) fail('E_SHAPE', 'mask', `length B*T = ${rows}*${cols} = ${tokens}`, `length ${mask.length}`);
    offsets = new Uint32Array(rows + 1);
    for (let i = 0; i <= rows; i++) offsets[i] = i * cols;
  }
  if (rows < minRows) fail('E_SHAPE', 'offsets', `at least ${minRows} row${minRows === 1 ? '' : 's'}`, `${rows} rows`);
  return { rows, cols, tokens, offsets, mask };
}

/** Whether token t is trained. */
export const trained = (layout: TokenLayout, t: number): boolean => layout.mask === null || layout.mask[t] !== 0;

/** A Float32Array of `length` values: the caller's (checked) or a fresh one. */
export function outArray(value: unknown, argument: string, length: number): Float32Array {
  if (value === undefined) return new Float32Array(length);
  if (!(value instanceof Float32Array)) fail('E_DTYPE', argument, 'a Float32Array', describe(value));
  if (value.length !== length) fail('E_SHAPE', argument, `length ${length}`, `length ${value.length}`);
  return value;
}

/** A per-token or per-row float input of an exact length (Float32Array, Float64Array or number[] → f32). */
export function floatsOf(value: unknown, argument: string, length: number, what: string): Float32Array {
  if (value instanceof Float32Array || value instanceof Float64Array || Array.isArray(value)) {
    if (value.length !== length) fail('E_SHAPE', argument, `length ${length} (${what})`, `length ${value.length}`);
    if (value instanceof Float32Array) return value;
    const out = new Float32Array(length);
    for (let i = 0; i < length; i++) {
      const v = (value as ArrayLike<unknown>)[i];
      if (typeof v !== 'number') fail('E_DTYPE', `${argument}[${i}]`, 'a number', describe(v));
      out[i] = v;
    }
    return out;
  }
  return fail('E_DTYPE', argument, `a Float32Array, Float64Array or number[] of length ${length} (${what})`, describe(value));
}

/** Group labels → dense ids 0..G-1 in order of first appearance (the conformance vectors' group_id). */
export function denseGroups(groups: unknown, numGroups: unknown, rows: number): { ids: Uint32Array; count: number } {
  const ids = new Uint32Array(rows);
  if (groups !== null && typeof groups === 'object' && !Array.isArray(groups) && !ArrayBuffer.isView(groups)) {
    const size = checkSize((groups as { size?: unknown }).size, 'groups.size', 1);
    if (rows % size !== 0) fail('E_SHAPE', 'groups.size', `a divisor of B = ${rows}`, describe(size));
    for (let i = 0; i < rows; i++) ids[i] = Math.floor(i / size);
    return { ids, count: rows / size };
  }
  const labels = checkIntegers(groups, 'groups');
  if (labels.length !== rows) fail('E_SHAPE', 'groups', `${rows} labels (one per row)`, `${labels.length}`);
  const limit = numGroups === undefined ? undefined : checkSize(numGroups, 'numGroups', 1);
  if (limit !== undefined) for (let i = 0; i < rows; i++) {
    const v = labels[i]!;
    if (v < 0 || v >= limit) fail('E_RANGE', `groups[${i}]`, `a group id in [0, ${limit})`, describe(v));
  }
  // Small non-negative labels use a table; anything else a Map.
  let max = -1, min = 0;
  for (let i = 0; i < rows; i++) { const v = labels[i]!; if (v > max) max = v; if (v < min) min = v; }
  let count = 0;
  if (min >= 0 && max < 4 * rows + 1024) {
    const table = new Int32Array(max + 1).fill(-1);
    for (let i = 0; i < rows; i++) {
      const v = labels[i]!;
      if (table[v] === -1) table[v] = count++;
      ids[i] = table[v]!;
    }
  } else {
    const map = new Map<number, number>();
    for (let i = 0; i < rows; i++) {
      const v = labels[i]!;
      let id = map.get(v);
      if (id === undefined) map.set(v, (id = count++));
      ids[i] = id;
    }
  }
  return { ids, count };
}

/** Groups as CSR: member rows of group g are members[start[g] .. start[g+1]), in row order. */
export function groupCsr(ids: Uint32Array, groups: number): { start: Uint32Array; members: Uint32Array; largest: number } {
  const start = new Uint32Array(groups + 1);
  for (let i = 0; i < ids.length; i++) start[ids[i]! + 1]!++;
  let largest = 0;
  for (let g = 0; g < groups; g++) { largest = Math.max(largest, start[g + 1]!); start[g + 1]! += start[g]!; }
  const fill = start.slice(0, groups);
  const members = new Uint32Array(ids.length);
  for (let i = 0; i < ids.length; i++) members[fill[ids[i]!]!++] = i;
  return { start, members, largest };
}
