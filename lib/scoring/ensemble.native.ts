/** Ensemble aggregation on the native addon (native/ensemble.cc `aggregateEnsemble`): rows split over threads. */
import { callNative } from '../backends/native.js';
import { ensembleMethods, type EnsembleProblem } from './ensemble.js';

export async function ensembleNative(p: EnsembleProblem): Promise<void> {
  await callNative('aggregateEnsemble', {
    members: p.members,
    rows: p.rows,
    scores: p.scores,
    method: ensembleMethods.indexOf(p.method),
    c: p.c,
    ddof: p.ddof,
    lambda: p.lambda,
    zNormalize: p.zNormalize,
    out: p.out,
  });
}
