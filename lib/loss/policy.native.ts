/** Losses on the native addon (native/loss.cc, a line-by-line mirror of policy.ref.ts), off the main thread. */
import { callNative } from '../backends/native.js';
import { lossKinds, type LossProblem, type LossRaw } from './problem.js';

/** The LossProblem as the addon's `lossKernel` reads it (flat numbers and typed arrays). */
export function lossArgs(p: LossProblem): Record<string, unknown> {
  const a = p.agg, l = p.layout;
  return {
    rows: l.rows, tokens: l.tokens, offsets: l.offsets, mask: l.mask,
    kind: lossKinds[p.kind], agg: a.code, estimator: p.estimator ?? 3,
    x: p.x, old: p.old, adv: p.adv, weights: p.weights,
    dpSize: a.dpSize, batchNumTokens: a.batchNumTokens, globalBatchSize: a.globalBatchSize, lossScaleFactor: a.lossScaleFactor,
    maxCompletionLength: a.maxCompletionLength, numProcesses: a.numProcesses, globalActiveTokens: a.globalActiveTokens,
    lo: p.lo, hi: p.hi, clipC: p.clipC, delta: p.delta, tauPos: p.tauPos, tauNeg: p.tauNeg, cliprange: p.cliprange,
    scale: p.scale, accumulate: p.accumulate === true, outLoss: p.kind === 'identity' || !p.outLoss.length ? null : p.outLoss, outGrad: p.outGrad,
  };
}

export async function lossNative(p: LossProblem): Promise<LossRaw> {
  return callNative<LossRaw>('lossKernel', lossArgs(p));
}
