/** The KL ops on the native addon (native/kl.cc, a mirror of kl.ref.ts), multi-threaded, off the main thread. */
import { callNative } from '../backends/native.js';
import type { KlProblem } from './kl.js';
import type { KlRewardProblem } from './reward.js';

export async function klPenaltyNative(p: KlProblem): Promise<void> {
  await callNative('klPenalty', {
    tokens: p.layout.tokens, code: p.code, straightThrough: p.straightThrough, mask: p.layout.mask,
    logProbs: p.logProbs, refLogProbs: p.refLogProbs, outKl: p.outKl, outGrad: p.outGrad, outGradRef: p.outGradRef,
  });
}

export async function inRewardKlNative(p: KlRewardProblem): Promise<number> {
  const r = await callNative<{ meanKl: number }>('inRewardKl', {
    rows: p.layout.rows, tokens: p.layout.tokens, offsets: p.layout.offsets, code: p.code, mask: p.layout.mask,
    logProbs: p.logProbs, refLogProbs: p.refLogProbs, scores: p.scores, beta: p.beta, outKl: p.outKl, outRewards: p.outRewards,
  });
  return r.meanKl;
}
