/**
 * The JS reference for PAR's reward shaping, in f64 (the conformance vectors are float64), results
 * rounded to f32. Each function mirrors the RewardShaper method it names.
 */
import { batchMoments, clamp } from './running-stats.js';
import { POLY, Z85, STEP, shapingPasses, type Mode, type ShapingProblem } from './shaping.js';

export const sigmoid = (x: number): number => 1 / (1 + Math.exp(-x));
/** log σ(x) without underflow (torch's log(sigmoid(x)) in f32 gives −inf below x ≈ −104). */
export const logSigmoid = (x: number): number => Math.min(x, 0) - Math.log1p(Math.exp(-Math.abs(x)));
/** calculate_fitted_poly: 0 for x <= −5, 1 for x >= 5, the quintic between (NaN stays NaN). */
export function fittedPoly(x: number): number {
  if (x <= -5) return 0;
  if (x >= 5) return 1;
  const [a, b, c, d, e, f] = POLY;
  return a * x ** 5 + b * x ** 4 + c * x ** 3 + d * x ** 2 + e * x + f;
}
/** torch.clamp(max=c): NaN stays NaN. */
export const ceilOf = (x: number, c: number): number => (x > c ? c : x);

/** The mean of fn(r − ref_j) over the row's first maxRef references (calculate_relative_*). */
function relative(p: ShapingProblem, i: number, r: number, fn: (d: number) => number): number {
  const start = p.refOffsets[i]!, end = Math.min(p.refOffsets[i + 1]!, start + p.maxRef);
  let s = 0;
  for (let j = start; j < end; j++) s += fn(r - p.refs[j]!);
  return s / (end - start);
}

/** LSC's q: norm.ppf(0.85, mean(refs), std_u(refs) + 1e-5) over ALL the row's references (PAR utils mean/std). */
export function lscQuantile(p: ShapingProblem, i: number): number {
  const start = p.refOffsets[i]!, n = p.refOffsets[i + 1]! - start;
  let sum = 0;
  for (let j = 0; j < n; j++) sum += p.refs[start + j]!;
  const mean = n ? sum / n : 0;
  let ss = 0;
  for (let j = 0; j < n; j++) ss += (p.refs[start + j]! - mean) ** 2;
  const std = n ? Math.sqrt(ss / (n > 1 ? n - 1 : n)) : 0;
  return mean + (std + 1e-5) * Z85;
}

function transform(p: ShapingProblem, i: number, r: number, mode: Mode, fn: (x: number) => number): number {
  return mode === 2 ? relative(p, i, r, fn) : fn(r);
}

/** The per-row steps of one pass (the running-stats step, if any, is applied by the caller first). */
export function rowSteps(p: ShapingProblem, i: number, r: number, steps: number): number {
  if (steps & STEP.PRE) {
    if (p.ceil !== null) r = ceilOf(r, p.ceil);
    if (p.penalty && p.lengths![i]! > p.penalty.validLength) r -= p.penalty.coefficient * (p.lengths![i]! - p.penalty.validLength);
    if (p.centered) r = relative(p, i, r, (d) => d);
    if (p.sgfc) r = relative(p, i, r - 3, (d) => sigmoid(p.k * d));
  }
  if (steps & STEP.CEIL2) r = ceilOf(r, p.ceil!);
  if (steps & STEP.POST) {
    if (p.sigmoid) r = transform(p, i, r, p.sigmoid, (d) => sigmoid(p.k * d));
    if (p.tanh) r = transform(p, i, r, p.tanh, Math.tanh);
    if (p.fittedPoly) r = transform(p, i, r, p.fittedPoly, fittedPoly);
    if (p.lsc) r = logSigmoid(r - lscQuantile(p, i));
  }
  return r;
}

export function shapingJs(p: ShapingProblem): void {
  const v = Float64Array.from(p.rewards);
  for (const steps of shapingPasses(p)) {
    let stat: ((x: number) => number) | null = null;
    if (steps & (STEP.MEANSTD | STEP.CLIP | STEP.MINMAX)) {
      p.stats.update(batchMoments(v)); // runningstats.update(reward)
      const s = p.stats;
      if (steps & STEP.MEANSTD) { const sd = s.std, m = s.mean, div = sd > 0 ? sd : 1; stat = (x) => (x - m) / div; }
      else if (steps & STEP.CLIP) { const sd = s.std, lo = s.mean - sd, hi = s.mean + sd; stat = (x) => clamp(x, lo, hi); }
      else { const lo = s.min, span = s.max - s.min; stat = (x) => (x - lo) / span; }
    }
    for (let i = 0; i < p.rows; i++) v[i] = rowSteps(p, i, stat ? stat(v[i]!) : v[i]!, steps);
  }
  p.out.set(v);
}
