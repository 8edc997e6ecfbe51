/** Bradley–Terry on the native addon (native/eval.cc `bradleyTerry`): pairs split over threads, f64 sums. */
import { callNative } from '../backends/native.js';
import type { BtSums } from './preference.ref.js';
import type { BtProblem } from './preference.js';

/** The kernels read f32 (the precision reward models emit); f64 inputs are rounded once. */
export const f32 = (a: Float32Array | Float64Array): Float32Array => (a instanceof Float32Array ? a : Float32Array.from(a));

export async function btNative(p: BtProblem): Promise<BtSums> {
  const r = await callNative<BtSums>('bradleyTerry', {
    pairs: p.pairs,
    chosen: f32(p.chosen),
    rejected: f32(p.rejected),
    margin: p.margin ? f32(p.margin) : null,
    marginValue: p.marginValue,
    labelSmoothing: p.labelSmoothing,
    probabilities: p.probabilities,
    losses: p.losses,
  });
  return { loss: r.loss, square: r.square, wins: r.wins, ties: r.ties };
}
