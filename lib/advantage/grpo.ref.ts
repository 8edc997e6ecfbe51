/**
 * The JS reference for GRPO outcome advantages: SPEC.md §1.1 line by line, in f64, results rounded
 * to f32 (the dtype verl and TRL return).
 */
import type { GrpoProblem, GrpoRaw } from './grpo.js';
import { scoreAllowed } from './grpo.js';

/** s_i: the row's score, or the sum of its token rewards (all tokens as verl does, or masked ones). */
export function rowScores(p: GrpoProblem): { scores: Float64Array; badRow: number; badValue: number } {
  const s = new Float64Array(p.rows);
  let badRow = -1, badValue = 0;
  for (let i = 0; i < p.rows; i++) {
    if (!p.tokenScores) { s[i] = p.scores[i]!; continue; }
    const start = p.offsets ? p.offsets[i]! : i * p.cols;
    const end = p.offsets ? p.offsets[i + 1]! : start + p.cols;
    let sum = 0;
    for (let t = start; t < end; t++) if (!p.sumMasked || !p.mask || p.mask[t] !== 0) sum += p.scores[t]!;
    s[i] = Math.fround(sum); // verl sums in f32: the row score is an f32
    if (badRow < 0 && !scoreAllowed(p.convention, s[i]!)) { badRow = i; badValue = s[i]!; }
  }
  return { scores: s, badRow, badValue };
}

/** mean and Bessel std of the values picked by `take`; NaN members skipped in the TRL convention. */
function stats(values: Float64Array, members: number[], trl: boolean): { n: number; mean: number; std: number } {
  let n = 0, sum = 0;
  for (const i of members) if (!(trl && Number.isNaN(values[i]))) { n++; sum += values[i]!; }
  const mean = sum / n; // NaN when n = 0 (TRL: all rewards missing)
  let ss = 0;
  for (const i of members) if (!(trl && Number.isNaN(values[i]))) ss += (values[i]! - mean) ** 2;
  return { n, mean, std: Math.sqrt(ss / (n - 1)) }; // n = 1 → NaN (torch.std of one value)
}

export function grpoJs(p: GrpoProblem): GrpoRaw {
  const { scores: s, badRow, badValue } = rowScores(p);
  const trl = p.convention === 'trl';
  const members: number[][] = Array.from({ length: p.numGroups }, () => []);
  for (let i = 0; i < p.rows; i++) members[p.groupIds[i]!]!.push(i);

  const mean = new Float64Array(p.numGroups), std = new Float64Array(p.numGroups);
  for (let g = 0; g < p.numGroups; g++) {
    const st = stats(s, members[g]!, trl);
    // verl: a group of one gets mean 0, std 1 (so s/(1+ε)); TRL keeps NaN and zeroes the result.
    if (!trl && st.n === 1) { mean[g] = 0; std[g] = 1; } else { mean[g] = st.mean; std[g] = st.std; }
  }
  let batchStd = NaN;
  if (p.scale === 'batch') {
    const st = stats(s, Array.from({ length: p.rows }, (_, i) => i), trl);
    batchStd = !trl && st.n === 1 ? 1 : st.std;
  }

  const rowAdvantages = p.outRows;
  for (let i = 0; i < p.rows; i++) {
    const g = p.groupIds[i]!;
    const centred = s[i]! - mean[g]!;
    let a = p.scale === 'none' ? centred : centred / ((p.scale === 'batch' ? batchStd : std[g]!) + p.epsilon);
    if (trl && Number.isNaN(a)) a = 0; // TRL: nan advantages (missing rewards, groups of one) → 0
    rowAdvantages[i] = a;
  }

  // Broadcast: a_i·M[i,t] (padded; a masked token is 0 even when a_i is not finite), a_i (packed).
  const tokenAdvantages = p.outTokens;
  for (let i = 0; i < p.rows; i++) {
    const a = rowAdvantages[i]!;
    if (p.offsets) { tokenAdvantages.fill(a, p.offsets[i]!, p.offsets[i + 1]!); continue; }
    const mask = p.mask!;
    for (let t = i * p.cols, end = t + p.cols; t < end; t++) {
      const m = mask[t]!;
      tokenAdvantages[t] = m === 0 ? 0 : a * m;
    }
  }
  return { badRow, badValue };
}
