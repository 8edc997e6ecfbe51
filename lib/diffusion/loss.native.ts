/** The batched diffusion-loss kernels on the native addon (native/diffusion_loss.cc, a mirror of loss.ref.ts). */
import { callNative } from '../backends/native.js';
import { CLIP_TERMS, type ClipInputs, type ClipProblem, type ClipRaw, type ClipSums, type LatentProblem } from './loss.js';

export async function clipRowsNative(p: ClipProblem): Promise<ClipRaw> {
  await callNative('diffusionClipRows', {
    n: p.n, logProb: p.logProb, oldLogProb: p.oldLogProb, advantages: p.advantages,
    lo: p.lo, hi: p.hi, advClip: p.advClip, ratio: p.out.ratio, loss: p.out.loss, grad: p.out.grad,
  });
  return p.out;
}

/** The clipped term fused with its per-step sums (diffusionClipLoss): writes only ratio and the scaled gradient. */
export async function clipLossNative(c: ClipInputs, clip32: number, gradScale: number): Promise<ClipSums> {
  const ratio = c.outRatio ?? new Float32Array(c.n), grad = c.outGrad ?? new Float32Array(c.n), sums = new Float64Array(CLIP_TERMS * c.steps);
  await callNative('diffusionClipLoss', {
    n: c.n, steps: c.steps, logProb: c.logProb, oldLogProb: c.oldLogProb, advantages: c.advantages, advPerRow: c.advPerRow,
    lo: c.lo, hi: c.hi, advClip: c.advClip, clip: clip32, gradScale, ratio, grad, sums,
  });
  return { ratio, grad, sums };
}

export async function latentRowsNative(p: LatentProblem): Promise<Float64Array> {
  const out = new Float64Array(p.rows);
  await callNative('latentSqRows', { rows: p.rows, cols: p.cols, a: p.a, b: p.b, out });
  return out;
}
