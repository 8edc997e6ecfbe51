/**
 * Outcome estimators on the native addon (native/outcome.cc, an operation-for-operation mirror of
 * outcome.ref.ts): row sums and the token broadcast run multi-threaded off the main thread.
 */
import { callNative } from '../backends/native.js';
import { builtinCodes, type BuiltinEstimator, type OutcomeProblem, type OutcomeRaw } from './outcome.js';

export async function outcomeNative(p: OutcomeProblem): Promise<OutcomeRaw> {
  const { layout } = p;
  const r = await callNative<{ badRow: number; badValue: number; trained: number }>('outcomeAdvantages', {
    rows: layout.rows,
    tokens: layout.tokens,
    offsets: layout.offsets,
    mask: layout.mask,
    scores: p.scores,
    tokenScores: p.tokenScores,
    sumMasked: p.sumMasked,
    normByStd: p.normByStd,
    numGroups: p.numGroups,
    groupIds: p.groupIds,
    estimator: builtinCodes[p.estimator as BuiltinEstimator],
    epsilon: p.epsilon,
    fNorm: p.fNorm,
    clip: p.clip,
    outTokens: p.outTokens,
    outRows: p.outRows,
  });
  return { badRow: r.badRow, badValue: r.badValue, trained: r.trained };
}
