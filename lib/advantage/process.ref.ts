/**
 * The JS reference for process-supervision advantages (see process.ts): f64, f32 results. A group's
 * steps are visited row by row in row order, each row's steps in CSR order (native/outcome.cc
 * repeats the same operations in the same order).
 */
import type { ProcessProblem } from './process.js';

/** r̃ per step: (r − mean_g)/(std_u(g) + ε) over all steps of the group's rows (one step: mean 0, std 1). */
export function normalisedSteps(p: ProcessProblem): Float64Array {
  const norm = new Float64Array(p.steps);
  const members: number[][] = Array.from({ length: p.numGroups }, () => []);
  for (let i = 0; i < p.layout.rows; i++) members[p.groupIds[i]!]!.push(i);
  const r = p.stepRewards, so = p.stepOffsets;
  for (const rows of members) {
    let n = 0, sum = 0;
    for (const i of rows) for (let j = so[i]!; j < so[i + 1]!; j++) { n += 1; sum += r[j]!; }
    let mean = sum / n, ss = 0;
    for (const i of rows) for (let j = so[i]!; j < so[i + 1]!; j++) { const d = r[j]! - mean; ss += d * d; }
    let std = Math.sqrt(ss / (n - 1));
    if (n <= 1) { mean = 0; std = 1; }
    for (const i of rows) for (let j = so[i]!; j < so[i + 1]!; j++) norm[j] = (r[j]! - mean) / (std + p.epsilon);
  }
  return norm;
}

export function processJs(p: ProcessProblem): void {
  const norm = normalisedSteps(p);
  p.outSteps.set(norm);
  const { offsets, mask } = p.layout;
  const out = p.outTokens;
  out.fill(0, 0, offsets[0]!);
  for (let i = 0; i < p.layout.rows; i++) {
    const a = offsets[i]!, n = offsets[i + 1]! - a;
    const acc = new Float64Array(n);
    for (let j = p.stepOffsets[i]!; j < p.stepOffsets[i + 1]!; j++) acc[p.stepEnds[j]!] += norm[j]!;
    let run = 0;
    for (let t = n - 1; t >= 0; t--) {
      run += acc[t]!;
      out[a + t] = mask !== null && mask[a + t] === 0 ? 0 : run;
    }
  }
}
