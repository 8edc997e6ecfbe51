/** The JS reference for the DAPO overlong penalty (overlong.ts), in f64, written as f32. */
import type { OverlongProblem } from './overlong.js';

/** The penalty for one length: verl `min(−(len − (L − C))/C·f, 0)`, or the paper's three branches. */
export function overlongOf(len: number, p: Pick<OverlongProblem, 'paper' | 'maxLength' | 'buffer' | 'factor'>): number {
  const expected = p.maxLength - p.buffer;
  if (!p.paper) return Math.min((-(len - expected) / p.buffer) * p.factor, 0);
  if (len <= expected) return 0;
  if (len <= p.maxLength) return ((expected - len) / p.buffer) * p.factor;
  return -p.factor;
}

/** Trained tokens per row (verl: the response attention mask summed). */
export function rowLengths(p: OverlongProblem): Float64Array {
  if (p.lengths) return p.lengths;
  const { offsets, mask } = p.layout!;
  const out = new Float64Array(p.rows);
  for (let i = 0; i < p.rows; i++) {
    if (mask === null) { out[i] = offsets[i + 1]! - offsets[i]!; continue; }
    let n = 0;
    for (let t = offsets[i]!; t < offsets[i + 1]!; t++) if (mask[t]) n++;
    out[i] = n;
  }
  return out;
}

export function overlongJs(p: OverlongProblem): void {
  const lengths = rowLengths(p);
  for (let i = 0; i < p.rows; i++) {
    const pen = overlongOf(lengths[i]!, p);
    p.outPenalties[i] = pen;
    if (p.outScores) p.outScores[i] = p.scores![i]! + Math.fround(pen); // f32 score + f32 penalty
  }
}
