/** The masked ops on the native addon (native/masked.cc, a mirror of masked.ref.ts). */
import { callNative } from '../backends/native.js';
import { maskedKindCode, type MaskedProblem, type MaskedRaw } from './masked.js';

export async function maskedNative(p: MaskedProblem): Promise<MaskedRaw> {
  const { layout } = p;
  return callNative<MaskedRaw>('maskedStats', {
    kind: maskedKindCode[p.kind],
    perRow: p.perRow,
    unbiased: p.unbiased,
    shiftMean: p.shiftMean,
    rows: layout.rows,
    tokens: layout.tokens,
    offsets: layout.offsets,
    mask: layout.mask,
    values: p.values,
    out: p.out,
  });
}
