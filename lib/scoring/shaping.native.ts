/**
 * Reward shaping on the native addon (native/shaping.cc `shapeRewards`): the same passes as the JS
 * reference, rows split over threads; the batch moments are combined from fixed-block partials and
 * merged into the running stats in C++ with PAR's update, and the new state comes back.
 */
import { callNative } from '../backends/native.js';
import type { ShapingProblem } from './shaping.js';

export async function shapingNative(p: ShapingProblem): Promise<void> {
  const s = p.stats;
  const r = await callNative<{ n: number; mean: number; M2: number; min: number; max: number }>('shapeRewards', {
    rows: p.rows,
    rewards: p.rewards,
    refCount: p.refs.length,
    refs: p.refs,
    // Dense references: the stride instead of B+1 offsets for the addon to copy and check.
    ...(p.refStride === null ? { refOffsets: p.refOffsets } : { refStride: p.refStride }),
    lengths: p.lengths,
    hasCeil: p.ceil !== null,
    ceil: p.ceil ?? 0,
    penalty: p.penalty !== null,
    validLength: p.penalty?.validLength ?? 0,
    coefficient: p.penalty?.coefficient ?? 0,
    centered: p.centered,
    sgfc: p.sgfc,
    meanstd: p.meanstd,
    clipping: p.clipping,
    minmax: p.minmax,
    sigmoid: p.sigmoid,
    tanh: p.tanh,
    fittedPoly: p.fittedPoly,
    lsc: p.lsc,
    k: p.k,
    maxRef: p.maxRef,
    statN: s.n, statMean: s.mean, statM2: s.M2, statMin: s.min, statMax: s.max,
    out: p.out,
  });
  s.restore(r);
}
