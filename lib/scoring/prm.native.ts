/** Step aggregation and Clip/Delta on the native addon (native/steps.cc): responses split over threads. */
import { callNative } from '../backends/native.js';
import { stepAggregations, type AggregateProblem, type ClipDeltaProblem } from './prm.js';

export async function aggregateStepsNative(p: AggregateProblem): Promise<void> {
  await callNative('aggregateSteps', {
    rows: p.rows, steps: p.steps, scores: p.scores, offsets: p.offsets,
    method: stepAggregations.indexOf(p.method), emptyValue: p.emptyValue, out: p.out,
  });
}

export async function clipDeltaNative(p: ClipDeltaProblem): Promise<void> {
  await callNative('clipDelta', {
    rows: p.rows, steps: p.steps, scores: p.scores, offsets: p.offsets,
    clip: p.clip, delta: p.delta, success: p.success, out: p.out,
  });
}
