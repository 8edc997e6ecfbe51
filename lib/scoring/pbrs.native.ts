/** Potential shaping and Robo-Dopamine progress on the native addon (native/steps.cc): trajectories split over threads. */
import { callNative } from '../backends/native.js';
import type { DopamineProblem, PbrsProblem } from './pbrs.js';

export async function pbrsNative(p: PbrsProblem): Promise<void> {
  await callNative('potentialShaping', {
    rows: p.rows, steps: p.steps, rewards: p.rewards, offsets: p.offsets,
    potentials: p.potentials, withFinal: p.withFinal, gamma: p.gamma, out: p.out,
  });
}

export async function dopamineNative(p: DopamineProblem): Promise<void> {
  await callNative('dopamineProgress', {
    rows: p.rows, steps: p.steps, hops: p.hops, offsets: p.offsets,
    mode: ['incremental', 'forward', 'backward'].indexOf(p.mode), inverse: p.inverse, rawFirst: p.rawFirst, out: p.out,
  });
}
