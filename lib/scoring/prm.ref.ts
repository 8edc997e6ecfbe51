/**
 * The JS reference for step aggregation (f64, result rounded to f32) and AReaL's Clip/Delta (in f32
 * as AReaL's torch.float tensors: the mean is a Python float cast to f32 where it meets the tensor).
 */
import type { AggregateProblem, ClipDeltaProblem, StepAggregation } from './prm.js';

const f32 = Math.fround;

/** One response's aggregate of steps s[start, end) (end > start). */
export function aggregate(method: StepAggregation, s: Float32Array, start: number, end: number): number {
  const n = end - start;
  let acc: number;
  switch (method) {
    case 'last': return s[end - 1]!;
    case 'min': case 'max': {
      acc = s[start]!;
      for (let t = start; t < end; t++) {
        const x = s[t]!;
        if (Number.isNaN(x)) return NaN; // torch.min/max semantics (Python's min() depends on the order)
        if (method === 'min' ? x < acc : x > acc) acc = x;
      }
      return acc;
    }
    case 'prod': acc = 1; for (let t = start; t < end; t++) acc *= s[t]!; return acc;
    case 'mean': acc = 0; for (let t = start; t < end; t++) acc += s[t]!; return acc / n;
    // exp(mean log p): the n-th root of the product without its underflow; NaN for p < 0.
    case 'geometricMean': acc = 0; for (let t = start; t < end; t++) acc += Math.log(s[t]!); return Math.exp(acc / n);
    case 'meanLogit': {
      acc = 0;
      for (let t = start; t < end; t++) { const p = s[t]!; acc += Math.log(p / (1 - p)); }
      return 1 / (1 + Math.exp(-acc / n));
    }
    case 'meanOdds': {
      acc = 0;
      for (let t = start; t < end; t++) { const p = s[t]!; acc += p / (1 - p); }
      const m = acc / n;
      return Number.isNaN(m) ? NaN : Math.max(0, m);
    }
  }
}

export function aggregateStepsJs(p: AggregateProblem): void {
  for (let i = 0; i < p.rows; i++) {
    const start = p.offsets[i]!, end = p.offsets[i + 1]!;
    p.out[i] = end > start ? aggregate(p.method, p.scores, start, end) : p.emptyValue;
  }
}

/** Clip, Delta and the success reward for one response's steps [start, end) (end > start), into out. */
export function clipDeltaRow(p: ClipDeltaProblem, i: number, start: number, end: number, out: Float32Array): void {
  const K = end - start;
  for (let t = start; t < end; t++) out[t] = p.scores[t]!;
  if (p.clip) {
    let sum = 0;
    for (let t = start; t < end; t++) sum += p.scores[t]!;
    const eta = f32(sum / K);
    // gt_mean → 0, ls_mean → r − η; a NaN (in r or η) is in neither mask and stays as it is.
    for (let t = start; t < end; t++) { const r = out[t]!; out[t] = r > eta ? 0 : r <= eta ? f32(r - eta) : r; }
  }
  if (p.delta) {
    // new[:-2] = v[:-2] − v[1:-1]; new[-2] = v[-2]; new[-1] = 0 (in place, front to back: v[k+1] is still old).
    for (let t = start; t < end - 2; t++) out[t] = f32(out[t]! - out[t + 1]!);
    out[end - 1] = 0;
  }
  if (p.success) out[end - 1] = p.success[i]!;
}

export function clipDeltaJs(p: ClipDeltaProblem): void {
  for (let i = 0; i < p.rows; i++) {
    const start = p.offsets[i]!, end = p.offsets[i + 1]!;
    if (end > start) clipDeltaRow(p, i, start, end, p.out);
  }
}
