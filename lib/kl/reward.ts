/**
 * KL in the reward (verl ray_trainer.apply_kl_penalty, core_algos.compute_rewards): per-token
 * rewards `scores − β·kl` and the batch KL that verl logs and feeds its KL controller.
 */
import { describe, fail } from '../errors.js';
import { checkFinite } from '../tensor.js';
import { runOp } from '../backends/select.js';
import { floatsOf, outArray, type TokenLayout } from '../layout.js';
import { checkOut, prepareInputs, type KlCode, type KlInputs } from './kl.js';
import type { KlController } from './controller.js';
import { inRewardKlJs } from './kl.ref.js';
import { inRewardKlNative } from './kl.native.js';
import { inRewardKlWebgpu } from './kl.gpu.js';

export interface InRewardKlOptions extends KlInputs {
  /** token_level_scores, one per token (the reward model's score usually sits on the last token). */
  scores: Float32Array | Float64Array | number[];
  /** The KL coefficient β (verl kl_ctrl.value). Give this or `controller`. */
  beta?: number;
  /**
   * A KL controller: β = controller.value, and after the call controller.update(meanKl, B) as
   * verl's apply_kl_penalty does (n_steps = batch size).
   */
  controller?: KlController;
  out?: { rewards?: Float32Array; kl?: Float32Array };
}

export interface InRewardKlResult {
  /** token_level_rewards = scores − β·kl per token (= scores on masked tokens, where kl is 0). */
  rewards: Float32Array;
  /** The estimate per token, 0 on masked tokens. */
  kl: Float32Array;
  /** verl's current_kl: the masked mean of kl over each row (Σ/(n+1e-8)), averaged over rows. */
  meanKl: number;
  /** The β used (before any controller update). */
  beta: number;
  backend: 'js' | 'native' | 'webgpu';
}

export interface KlRewardProblem {
  layout: TokenLayout;
  logProbs: Float32Array;
  refLogProbs: Float32Array;
  scores: Float32Array;
  code: KlCode;
  /** β rounded to f32: torch multiplies an f32 tensor by a Python float in f32. */
  beta: number;
  outRewards: Float32Array;
  outKl: Float32Array;
}

function controllerOf(value: unknown): KlController {
  const c = value as { value?: unknown; update?: unknown } | null;
  if (c === null || typeof c !== 'object' || typeof c.update !== 'function' || typeof c.value !== 'number' || !Number.isFinite(c.value)) {
    fail('E_VALUE', 'controller', 'a KL controller (an object with a finite `value` and `update(kl, nSteps)`)', describe(value));
  }
  return value as KlController;
}

export function prepareInRewardKl(options: InRewardKlOptions): { problem: KlRewardProblem; controller: KlController | undefined; beta: number } {
  const inputs = prepareInputs(options);
  const o = options as InRewardKlOptions;
  if ((o.beta === undefined) === (o.controller === undefined)) {
    fail('E_VALUE', 'beta', 'either beta or controller (exactly one)', o.beta === undefined ? 'neither' : 'both');
  }
  const controller = o.controller === undefined ? undefined : controllerOf(o.controller);
  const beta = controller ? controller.value : checkFinite(o.beta, 'beta');
  const n = inputs.layout.tokens;
  const scores = floatsOf(o.scores, 'scores', n, 'token_level_scores, one per token');
  const out = checkOut(o.out, 'rewards?, kl?');
  return {
    problem: { ...inputs, scores, beta: Math.fround(beta), outRewards: outArray(out?.['rewards'], 'out.rewards', n), outKl: outArray(out?.['kl'], 'out.kl', n) },
    controller, beta,
  };
}

/** verl current_kl from per-row sums and trained-token counts: mean_i(sum_i / (n_i + 1e-8)). */
export function batchMeanKl(rowSums: ArrayLike<number>, rowCounts: ArrayLike<number>): number {
  let total = 0;
  for (let i = 0; i < rowSums.length; i++) total += rowSums[i]! / (rowCounts[i]! + 1e-8);
  return total / rowSums.length;
}

/**
 * verl's KL-in-reward: kl = kl_penalty(logp, ref, estimator) on trained tokens (0 elsewhere),
 * rewards = scores − β·kl, meanKl = current_kl; then controller.update(meanKl, B) when a controller
 * is given. With estimator 'k1' and every token trained this is core_algos.compute_rewards.
 */
export async function inRewardKl(options: InRewardKlOptions): Promise<InRewardKlResult> {
  const { problem: p, controller, beta } = prepareInRewardKl(options);
  const result = (meanKl: number, backend: InRewardKlResult['backend']): InRewardKlResult => {
    controller?.update(meanKl, p.layout.rows);
    return { rewards: p.outRewards, kl: p.outKl, meanKl, beta, backend };
  };
  return runOp('inRewardKl', options.backend, p.layout.tokens, {
    js: async () => result(inRewardKlJs(p), 'js'),
    native: async () => result(await inRewardKlNative(p), 'native'),
    webgpu: async () => result(await inRewardKlWebgpu(p, options.context), 'webgpu'),
  });
}
