/**
 * Process-supervision advantages (SPEC.md §1.2; DeepSeekMath's GRPO with a process reward model).
 * No reference implementation exists in verl, TRL or OpenRLHF: this follows the paper's definition.
 *
 * Step k of row i has a reward r_{i,k} placed at its end token e_{i,k} (an index within the row).
 * All step rewards of a group are normalised together, r̃ = (r − mean_g)/(std_u(g) + ε) (a group
 * with a single step: mean 0, std 1, as verl does for a group of one), and the advantage of token t
 * is the sum of r̃ over the row's steps whose end token is at or after t; untrained tokens get 0.
 */
import { describe, fail } from '../errors.js';
import { checkFinite, checkIntegers, checkOffsets, type IndexArray } from '../tensor.js';
import { runOp, type Backend } from '../backends/select.js';
import { denseGroups, floatsOf, outArray, prepareLayout, type MaskInput, type TokenLayout } from '../layout.js';
import type { GpuContext } from '../backends/webgpu/context.js';
import { processJs } from './process.ref.js';
import { processNative } from './process.native.js';
import { processWebgpu } from './process.gpu.js';

export interface ProcessOptions {
  /** Reward of every step, rows' steps one after another (CSR by `stepOffsets`). */
  stepRewards: Float32Array | Float64Array | number[];
  /** The end token of every step, as an index within its row (0 ≤ e < the row's length). */
  stepEnds: IndexArray;
  /** CSR [B+1]: the steps of row i are stepOffsets[i] .. stepOffsets[i+1]. */
  stepOffsets: IndexArray;
  mask?: MaskInput;
  shape?: readonly [number, number];
  offsets?: IndexArray;
  groups: IndexArray | { size: number };
  numGroups?: number;
  /** Added to the std (default 1e-6, verl's GRPO epsilon). */
  epsilon?: number;
  backend?: Backend;
  out?: { tokenAdvantages?: Float32Array; stepAdvantages?: Float32Array };
  context?: GpuContext;
}

export interface ProcessResult {
  /** Σ of normalised step rewards of the steps ending at or after each token; 0 on untrained tokens. */
  tokenAdvantages: Float32Array;
  /** The normalised step rewards r̃ [steps]. */
  stepAdvantages: Float32Array;
  backend: 'js' | 'native' | 'webgpu';
}

export interface ProcessProblem {
  layout: TokenLayout;
  stepRewards: Float32Array;
  stepEnds: Uint32Array;
  stepOffsets: Uint32Array;
  steps: number;
  groupIds: Uint32Array;
  numGroups: number;
  epsilon: number;
  outTokens: Float32Array;
  outSteps: Float32Array;
}

export function prepareProcess(options: ProcessOptions): ProcessProblem {
  if (options === null || typeof options !== 'object') fail('E_VALUE', 'options', 'an options object', describe(options));
  const layout = prepareLayout(options);
  const stepOffsets = checkOffsets(options.stepOffsets, 'stepOffsets');
  if (stepOffsets.length !== layout.rows + 1) fail('E_SHAPE', 'stepOffsets', `B+1 = ${layout.rows + 1} offsets`, `${stepOffsets.length}`);
  const steps = stepOffsets[layout.rows]!;
  const stepRewards = floatsOf(options.stepRewards, 'stepRewards', steps, 'one reward per step: stepOffsets[B]');
  for (let j = 0; j < steps; j++) if (!Number.isFinite(stepRewards[j]!)) fail('E_VALUE', `stepRewards[${j}]`, 'a finite number', describe(stepRewards[j]));
  const ends = checkIntegers(options.stepEnds, 'stepEnds');
  if (ends.length !== steps) fail('E_SHAPE', 'stepEnds', `length stepOffsets[B] = ${steps}`, `length ${ends.length}`);
  const stepEnds = new Uint32Array(steps);
  for (let i = 0; i < layout.rows; i++) {
    const len = layout.offsets[i + 1]! - layout.offsets[i]!;
    for (let j = stepOffsets[i]!; j < stepOffsets[i + 1]!; j++) {
      const e = ends[j]!;
      if (!(e >= 0 && e < len)) fail('E_RANGE', `stepEnds[${j}]`, `a token index within row ${i} (0 <= e < ${len})`, describe(e));
      stepEnds[j] = e;
    }
  }
  const epsilon = options.epsilon === undefined ? 1e-6 : checkFinite(options.epsilon, 'epsilon');
  if (epsilon < 0) fail('E_VALUE', 'epsilon', 'a finite number >= 0', describe(epsilon));
  const { ids, count } = denseGroups(options.groups, options.numGroups, layout.rows);
  const out = options.out;
  if (out !== undefined && (out === null || typeof out !== 'object')) fail('E_VALUE', 'out', 'an object { tokenAdvantages?, stepAdvantages? }', describe(out));
  return {
    layout, stepRewards, stepEnds, stepOffsets, steps, groupIds: ids, numGroups: count, epsilon,
    outTokens: outArray(out?.tokenAdvantages, 'out.tokenAdvantages', layout.tokens),
    outSteps: outArray(out?.stepAdvantages, 'out.stepAdvantages', steps),
  };
}

/** Process-supervision token advantages on the chosen backend. */
export async function processAdvantages(options: ProcessOptions): Promise<ProcessResult> {
  const p = prepareProcess(options);
  const done = (backend: ProcessResult['backend']): ProcessResult => ({ tokenAdvantages: p.outTokens, stepAdvantages: p.outSteps, backend });
  return runOp('processAdvantages', options.backend, p.layout.tokens + p.steps, {
    js: async () => { processJs(p); return done('js'); },
    native: async () => { await processNative(p); return done('native'); },
    webgpu: async () => { await processWebgpu(p, options.context); return done('webgpu'); },
  });
}
