/** Tabular EPIC on the native addon (native/eval.cc `epicTabular`): potentials and moments in f64. */
import { callNative } from '../backends/native.js';
import { pearsonToDistance } from './epic.ref.js';
import { pearsonFromMoments, type EpicMoments, type EpicProblem, type EpicResult } from './epic.js';
import { f32 } from './preference.native.js';

export async function epicNative(p: EpicProblem): Promise<EpicResult> {
  const canonicalA = p.canonical ? new Float32Array(p.size) : null, canonicalB = p.canonical ? new Float32Array(p.size) : null;
  const m = await callNative<EpicMoments>('epicTabular', {
    states: p.states,
    actions: p.actions,
    rewardA: f32(p.rewardA),
    rewardB: f32(p.rewardB),
    stateDist: p.stateDist ? f32(p.stateDist) : null,
    actionDist: p.actionDist ? f32(p.actionDist) : null,
    weights: p.weights ? f32(p.weights) : null,
    discount: p.discount,
    canonicalA,
    canonicalB,
  });
  const rho = pearsonFromMoments(m);
  const r: EpicResult = { distance: pearsonToDistance(rho), pearson: rho, backend: 'native' };
  if (canonicalA && canonicalB) { r.canonicalA = canonicalA; r.canonicalB = canonicalB; }
  return r;
}
