/**
 * The JS reference for the outcome estimators (SPEC.md §1.1; verl core_algos.py compute_*_outcome_
 * advantage, OpenRLHF group_norm): f64 throughout, f32 results. Group members are visited in row
 * order; native/outcome.cc repeats every operation in the same order.
 */
import { describe, fail } from '../errors.js';
import type { TokenLayout } from '../layout.js';
import { maskedVarRef } from './masked.ref.js';
import type { OutcomeProblem, OutcomeRaw } from './outcome.js';

/** s_i: the row score, or the f32-rounded f64 sum of the row's token rewards (all, or trained only). */
export function rowScoresOf(scores: Float32Array, layout: TokenLayout, tokenScores: boolean, sumMasked: boolean): Float64Array {
  const s = new Float64Array(layout.rows);
  const { offsets, mask } = layout;
  for (let i = 0; i < layout.rows; i++) {
    if (!tokenScores) { s[i] = scores[i]!; continue; }
    let sum = 0;
    for (let t = offsets[i]!; t < offsets[i + 1]!; t++) if (!sumMasked || mask === null || mask[t] !== 0) sum += scores[t]!;
    s[i] = Math.fround(sum); // verl sums in f32: the row score is an f32
  }
  return s;
}

/** L_i = Σ_t M[i,t]: trained tokens per row. */
export function rowLengthsOf(layout: TokenLayout): Float64Array {
  const L = new Float64Array(layout.rows);
  const { offsets, mask } = layout;
  for (let i = 0; i < layout.rows; i++) {
    if (mask === null) { L[i] = offsets[i + 1]! - offsets[i]!; continue; }
    let n = 0;
    for (let t = offsets[i]!; t < offsets[i + 1]!; t++) if (mask[t] !== 0) n++;
    L[i] = n;
  }
  return L;
}

/** Members of every group, in row order. */
function membersOf(p: OutcomeProblem): number[][] {
  const members: number[][] = Array.from({ length: p.numGroups }, () => []);
  for (let i = 0; i < p.layout.rows; i++) members[p.groupIds[i]!]!.push(i);
  return members;
}

/** Row advantages (f64) of a built-in estimator, before any batch-level whitening. */
function builtinRows(p: OutcomeProblem, s: Float64Array, L: Float64Array): Float64Array {
  const B = p.layout.rows, eps = p.epsilon;
  const a = new Float64Array(B);
  let alpha = 1;
  if (p.estimator === 'gpg') { // α = B / max(count_nonzero(s), 1) over the whole batch
    let nnz = 0;
    for (let i = 0; i < B; i++) if (s[i] !== 0) nnz++;
    alpha = B / Math.max(nnz, 1);
  }
  for (const rows of membersOf(p)) {
    const n = rows.length;
    let sum = 0;
    for (const i of rows) sum += s[i]!;
    const mean = sum / n;
    let ss = 0;
    for (const i of rows) ss += (s[i]! - mean) * (s[i]! - mean);
    const stdU = Math.sqrt(ss / (n - 1)); // NaN for n = 1, never used there
    switch (p.estimator) {
      case 'grpo_vectorized': { // group_mean_std: var = Σ(s−mean)²/max(n−1,1) (= (S2 − S1²/n)/…), floored at ε
        const m = n === 1 ? 0 : mean;
        const std = n === 1 ? 1 : Math.sqrt(Math.max(ss / Math.max(n - 1, 1), eps));
        for (const i of rows) a[i] = p.normByStd ? (s[i]! - m) / (std + eps) : s[i]! - m;
        break;
      }
      case 'rloo':
        for (const i of rows) a[i] = n > 1 ? (s[i]! * n) / (n - 1) - (mean * n) / (n - 1) : s[i]!;
        break;
      case 'rloo_vectorized':
        for (const i of rows) a[i] = n > 1 ? (n * s[i]! - sum) / (n - 1) : 0;
        break;
      case 'reinforce_plus_plus_baseline':
        for (const i of rows) a[i] = s[i]! - (n === 1 ? 0 : mean);
        break;
      case 'gpg':
        for (const i of rows) a[i] = (alpha * (s[i]! - (n === 1 ? 0 : mean))) / p.fNorm;
        break;
      case 'opo': { // baseline Σ L·s / Σ L (0 for a group of one; NaN when every row is empty)
        let sumL = 0, sumLs = 0;
        for (const i of rows) { sumL += L[i]!; sumLs += L[i]! * s[i]!; }
        const b = n === 1 ? 0 : sumLs / sumL;
        for (const i of rows) a[i] = s[i]! - b;
        break;
      }
      case 'grpo_passk': { // only the best row gets s_max − s_2nd (÷ (std_u + ε)); ties: the first best
        let best = rows[0]!;
        for (const i of rows) if (s[i]! > s[best]!) best = i;
        let second = -Infinity;
        for (const i of rows) if (i !== best && s[i]! > second) second = s[i]!;
        for (const i of rows) a[i] = 0;
        const adv = s[best]! - second;
        a[best] = p.normByStd ? adv / (stdU + eps) : adv;
        break;
      }
      case 'group_norm': // (r − mean)/(std_u + ε), clamped to [−clip, clip]
        for (const i of rows) a[i] = Math.min(p.clip, Math.max(-p.clip, (s[i]! - mean) / (stdU + eps)));
        break;
      default:
        throw new Error(`no reference for estimator ${p.estimator}`);
    }
  }
  return a;
}

/** A custom estimator's row advantages, checked. */
function customRows(p: OutcomeProblem, s: Float64Array, L: Float64Array): Float64Array {
  const out = p.entry.custom!({ scores: s, groupIds: p.groupIds, numGroups: p.numGroups, lengths: L, epsilon: p.epsilon });
  if (out === null || typeof out !== 'object' || typeof (out as ArrayLike<number>).length !== 'number') {
    fail('E_VALUE', `estimator '${p.estimator}'`, `row advantages (an array of ${p.layout.rows} numbers)`, describe(out));
  }
  if (out.length !== p.layout.rows) fail('E_SHAPE', `estimator '${p.estimator}'`, `${p.layout.rows} row advantages`, `${out.length}`);
  const a = new Float64Array(p.layout.rows);
  for (let i = 0; i < a.length; i++) {
    const v = out[i];
    if (typeof v !== 'number') fail('E_DTYPE', `estimator '${p.estimator}'[${i}]`, 'a number', describe(v));
    a[i] = v;
  }
  return a;
}

export function outcomeJs(p: OutcomeProblem): OutcomeRaw {
  const { layout } = p;
  const s = rowScoresOf(p.scores, layout, p.tokenScores, p.sumMasked);
  for (let i = 0; i < layout.rows; i++) if (!Number.isFinite(s[i]!)) return { badRow: i, badValue: s[i]!, trained: 0 };
  const L = rowLengthsOf(layout);
  const a = p.entry.kind === 'custom' ? customRows(p, s, L) : builtinRows(p, s, L);
  const rows = p.outRows;
  let trained = 0;
  for (let i = 0; i < layout.rows; i++) trained += L[i]!;

  if (p.estimator === 'reinforce_plus_plus_baseline') {
    // masked_whiten(a·M, M)·M over the whole batch (verl_F.masked_whiten; raises for ≤ 1 trained token).
    const values = new Float64Array(layout.tokens);
    for (let i = 0; i < layout.rows; i++) values.fill(a[i]!, layout.offsets[i]!, layout.offsets[i + 1]!);
    const { mean, variance } = maskedVarRef(values, layout, true, 'mask');
    const scale = 1 / Math.sqrt(variance + 1e-8);
    for (let i = 0; i < layout.rows; i++) rows[i] = (a[i]! - mean) * scale;
  } else {
    for (let i = 0; i < layout.rows; i++) rows[i] = a[i]!;
  }

  // Broadcast to trained tokens; untrained ones are 0 even when the row's advantage is not finite.
  const out = p.outTokens, { offsets, mask } = layout;
  for (let i = 0; i < layout.rows; i++) {
    const v = rows[i]!;
    if (mask === null) { out.fill(v, offsets[i]!, offsets[i + 1]!); continue; }
    for (let t = offsets[i]!; t < offsets[i + 1]!; t++) out[t] = mask[t] === 0 ? 0 : v;
  }
  return { badRow: -1, badValue: 0, trained };
}
