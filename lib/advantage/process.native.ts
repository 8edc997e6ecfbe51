/** Process-supervision advantages on the native addon (native/outcome.cc, mirrors process.ref.ts). */
import { callNative } from '../backends/native.js';
import type { ProcessProblem } from './process.js';

export async function processNative(p: ProcessProblem): Promise<void> {
  await callNative('processAdvantages', {
    rows: p.layout.rows,
    tokens: p.layout.tokens,
    offsets: p.layout.offsets,
    mask: p.layout.mask,
    steps: p.steps,
    stepOffsets: p.stepOffsets,
    stepEnds: p.stepEnds,
    stepRewards: p.stepRewards,
    numGroups: p.numGroups,
    groupIds: p.groupIds,
    epsilon: p.epsilon,
    outTokens: p.outTokens,
    outSteps: p.outSteps,
  });
}
