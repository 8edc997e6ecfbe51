/**
 * PAR's `RunningStats` (trainers/reward_shaper.py): a running mean / population variance / min / max
 * over every batch it has seen, merged batch by batch with Chan et al.'s parallel update. The state
 * lives on the host whatever backend shaped the batch: backends return a batch's moments (count,
 * mean, population variance, min, max) and `update` merges them here in f64.
 */
import { describe, fail } from '../errors.js';

/** One batch's moments, as torch computes them in PAR: mean, var(unbiased=False), max, min. */
export interface BatchMoments { n: number; mean: number; variance: number; min: number; max: number }

export interface RunningStatsState { n: number; mean: number; M2: number; min: number; max: number }

export class RunningStats {
  n = 0;
  mean = 0;
  M2 = 0;
  /** PAR starts the running max at −10000 and the min at 10000. */
  max = -10000;
  min = 10000;

  constructor(state?: RunningStatsState) {
    if (state !== undefined) this.restore(state);
  }

  /** Merge one batch (PAR's `update`, from the batch's moments). */
  update(b: BatchMoments): void {
    this.max = Math.max(this.max, b.max);
    this.min = Math.min(this.min, b.min);
    const newN = this.n + b.n;
    const delta = b.mean - this.mean;
    this.mean += delta * (b.n / newN);
    this.M2 += b.variance * b.n + delta ** 2 * ((this.n * b.n) / newN);
    this.n = newN;
  }

  /** Merge a batch of values (two-pass f64 moments, as torch's mean and var). */
  updateFrom(values: ArrayLike<number>): void {
    this.update(batchMoments(values));
  }

  /** M2/n, or 0 while n <= 1 (PAR's get_variance). */
  get variance(): number { return this.n > 1 ? this.M2 / this.n : 0; }
  get std(): number { return Math.sqrt(this.variance); }

  /** (r − mean)/std, std 0 → ÷1. */
  normalize(r: number): number { const s = this.std; return (r - this.mean) / (s > 0 ? s : 1); }
  /** Clamp to [mean − std, mean + std] (torch.clip: NaN stays NaN). */
  clip(r: number): number { const s = this.std; return clamp(r, this.mean - s, this.mean + s); }
  /** (r − min)/(max − min): as PAR, no guard for max = min. */
  minmax(r: number): number { return (r - this.min) / (this.max - this.min); }

  state(): RunningStatsState { return { n: this.n, mean: this.mean, M2: this.M2, min: this.min, max: this.max }; }
  restore(s: RunningStatsState): void {
    if (s === null || typeof s !== 'object') fail('E_VALUE', 'stats', 'a RunningStats state { n, mean, M2, min, max }', describe(s));
    for (const key of ['n', 'mean', 'M2', 'min', 'max'] as const) {
      if (typeof s[key] !== 'number' || Number.isNaN(s[key])) fail('E_VALUE', `stats.${key}`, 'a number', describe(s[key]));
    }
    this.n = s.n; this.mean = s.mean; this.M2 = s.M2; this.min = s.min; this.max = s.max;
  }
  clone(): RunningStats { return new RunningStats(this.state()); }
}

export function clamp(x: number, lo: number, hi: number): number {
  return x < lo ? lo : x > hi ? hi : x;
}

/** Two-pass f64 moments of a batch (torch's mean, var(unbiased=False), max, min). */
export function batchMoments(values: ArrayLike<number>): BatchMoments {
  const n = values.length;
  let sum = 0, lo = Infinity, hi = -Infinity;
  for (let i = 0; i < n; i++) { const x = values[i]!; sum += x; if (x < lo) lo = x; if (x > hi) hi = x; }
  const mean = sum / n;
  let ss = 0;
  for (let i = 0; i < n; i++) { const d = values[i]! - mean; ss += d * d; }
  return { n, mean, variance: ss / n, min: lo, max: hi };
}

/** Partial moments (count, mean, M2, min, max) merged with Chan's update: how backends combine chunks. */
export interface Partial { n: number; mean: number; M2: number; min: number; max: number }
export function mergePartial(a: Partial, b: Partial): Partial {
  if (b.n === 0) return a;
  if (a.n === 0) return { ...b };
  const n = a.n + b.n, d = b.mean - a.mean;
  return { n, mean: a.mean + (d * b.n) / n, M2: a.M2 + b.M2 + (d * d * a.n * b.n) / n, min: Math.min(a.min, b.min), max: Math.max(a.max, b.max) };
}
