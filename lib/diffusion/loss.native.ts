/** The batched diffusion-loss kernels on the native addon (native/diffusion_loss.cc, a mirror of loss.ref.ts). */
import { callNative } from '../backends/native.js';
import type { ClipProblem, ClipRaw, LatentProblem } from './loss.js';

export async function clipRowsNative(p: ClipProblem): Promise<ClipRaw> {
  await callNative('diffusionClipRows', {
    n: p.n, logProb: p.logProb, oldLogProb: p.oldLogProb, advantages: p.advantages,
    lo: p.lo, hi: p.hi, advClip: p.advClip, ratio: p.out.ratio, loss: p.out.loss, grad: p.out.grad,
  });
  return p.out;
}

export async function latentRowsNative(p: LatentProblem): Promise<Float64Array> {
  const out = new Float64Array(p.rows);
  await callNative('latentSqRows', { rows: p.rows, cols: p.cols, a: p.a, b: p.b, out });
  return out;
}
