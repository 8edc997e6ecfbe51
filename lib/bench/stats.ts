/** Order statistics of per-call times (ms): medians and quartiles, as the report quotes them. */
import type { Stats } from './types.js';

const quantile = (sorted: readonly number[], q: number) => {
  const pos = (sorted.length - 1) * q, lo = Math.floor(pos), hi = Math.ceil(pos);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (pos - lo);
};

export function stats(samplesMs: readonly number[]): Stats {
  if (samplesMs.length === 0) throw new Error('stats of no samples');
  const s = [...samplesMs].sort((a, b) => a - b);
  return {
    medianMs: quantile(s, 0.5), meanMs: s.reduce((a, b) => a + b, 0) / s.length, minMs: s[0]!,
    p25Ms: quantile(s, 0.25), p75Ms: quantile(s, 0.75), p99Ms: quantile(s, 0.99), samples: s.length,
  };
}
