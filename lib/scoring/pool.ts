/**
 * Which hidden state feeds a reward head (SPEC.md §2.1), over hidden states [B, T, H]:
 *
 * - `last` (transformers / TRL `GenericForSequenceClassification`): the rightmost token whose id is
 *   not the pad id, `argmax(arange(T)·(ids ≠ pad))`; an all-pad row gives 0. Works for left and right
 *   padding; if pad == eos, a trailing EOS is skipped, exactly as transformers does.
 * - `mask` (OpenRLHF `T − 1 − argmax(fliplr(mask))`, PAR `labels != -100`): the rightmost nonzero
 *   mask entry; an all-zero row gives T − 1.
 * - `index`: the token index of each row given directly.
 * - `mean`: the mean over the masked tokens (every token when no mask); masked-out tokens are
 *   skipped, never multiplied by 0, so NaN/Inf in padding cannot leak; an all-zero row pools to the
 *   zero vector (the count is clamped to 1, as sentence-transformers clamps it to 1e-9).
 */
import { describe, fail } from '../errors.js';
import { checkIntegers } from '../tensor.js';
import { maskBytes, type MaskInput } from '../layout.js';

export type Pooling =
  | { kind: 'last'; /** [B·T] token ids. */ inputIds: Int32Array | Uint32Array | number[]; padTokenId: number }
  | { kind: 'mask'; /** [B·T], nonzero = a real token. */ mask: MaskInput }
  | { kind: 'index'; /** [B] token index per row, in [0, T). */ index: Int32Array | Uint32Array | number[] }
  | { kind: 'mean'; /** [B·T], nonzero = pooled; absent = every token. */ mask?: MaskInput };

/** The normalised pooling every backend receives. */
export type PoolPlan =
  | { kind: 'index'; /** [B] token index per row. */ index: Uint32Array }
  | { kind: 'mean'; /** [B·T] 0/1, or null = every token. */ mask: Uint8Array | null };

/** Validate a pooling spec for [B, T] into a PoolPlan (token indices computed here, O(B·T)). */
export function preparePooling(pooling: unknown, B: number, T: number): PoolPlan {
  if (pooling === null || typeof pooling !== 'object') fail('E_VALUE', 'pooling', "an object { kind: 'last' | 'mask' | 'index' | 'mean', ... }", describe(pooling));
  const p = pooling as Record<string, unknown>;
  switch (p['kind']) {
    case 'last': {
      const ids = checkIntegers(p['inputIds'], 'pooling.inputIds');
      if (ids.length !== B * T) fail('E_SHAPE', 'pooling.inputIds', `length B*T = ${B}*${T} = ${B * T}`, `length ${ids.length}`);
      const pad = p['padTokenId'];
      if (typeof pad !== 'number' || !Number.isSafeInteger(pad)) fail('E_VALUE', 'pooling.padTokenId', 'an integer token id', describe(pad));
      return { kind: 'index', index: lastNonPad(ids, pad, B, T) };
    }
    case 'mask': {
      const mask = maskBytes(p['mask'], 'pooling.mask');
      if (mask.length !== B * T) fail('E_SHAPE', 'pooling.mask', `length B*T = ${B}*${T} = ${B * T}`, `length ${mask.length}`);
      return { kind: 'index', index: lastInMask(mask, B, T) };
    }
    case 'index': {
      const raw = checkIntegers(p['index'], 'pooling.index');
      if (raw.length !== B) fail('E_SHAPE', 'pooling.index', `${B} indices (one per row)`, `length ${raw.length}`);
      const index = new Uint32Array(B);
      for (let b = 0; b < B; b++) {
        const t = raw[b]!;
        if (!(t >= 0 && t < T)) fail('E_RANGE', `pooling.index[${b}]`, `a token index in [0, ${T})`, describe(t));
        index[b] = t;
      }
      return { kind: 'index', index };
    }
    case 'mean': {
      if (p['mask'] === undefined) return { kind: 'mean', mask: null };
      const mask = maskBytes(p['mask'], 'pooling.mask');
      if (mask.length !== B * T) fail('E_SHAPE', 'pooling.mask', `length B*T = ${B}*${T} = ${B * T}`, `length ${mask.length}`);
      return { kind: 'mean', mask };
    }
    default:
      return fail('E_VALUE', 'pooling.kind', "one of 'last', 'mask', 'index', 'mean'", describe(p['kind']));
  }
}

/** transformers: argmax(arange(T)·(ids ≠ pad)) per row — the rightmost non-pad token, 0 when none. */
export function lastNonPad(ids: ArrayLike<number>, pad: number, B: number, T: number): Uint32Array {
  const out = new Uint32Array(B);
  for (let b = 0; b < B; b++) {
    let t = T - 1;
    while (t > 0 && ids[b * T + t] === pad) t--;
    out[b] = t; // t = 0 either holds a real token or the row is all pad: both give 0
  }
  return out;
}

/** OpenRLHF: T − 1 − argmax(fliplr(mask)) per row — the rightmost nonzero, T − 1 when none. */
export function lastInMask(mask: Uint8Array, B: number, T: number): Uint32Array {
  const out = new Uint32Array(B);
  for (let b = 0; b < B; b++) {
    let t = T - 1;
    while (t >= 0 && mask[b * T + t] === 0) t--;
    out[b] = t < 0 ? T - 1 : t;
  }
  return out;
}

/**
 * The token index each row's head reads, as the reference implementations compute it:
 * `pooledIndex({ kind: 'last', inputIds, padTokenId: 0 }, [B, T])`. Not defined for mean pooling.
 */
export function pooledIndex(pooling: Exclude<Pooling, { kind: 'mean' }>, shape: readonly [number, number]): Uint32Array {
  if (!Array.isArray(shape) || shape.length !== 2) fail('E_SHAPE', 'shape', '[B, T]', describe(shape));
  const [B, T] = shape;
  if (!Number.isSafeInteger(B) || !Number.isSafeInteger(T) || !(B >= 1) || !(T >= 1)) fail('E_VALUE', 'shape', '[B, T] with B, T >= 1', `[${B}, ${T}]`);
  const plan = preparePooling(pooling, B, T);
  if (plan.kind !== 'index') fail('E_VALUE', 'pooling.kind', "'last', 'mask' or 'index' (mean pooling picks no token)", "'mean'");
  return plan.index;
}
