/**
 * Token-level advantage estimators (SPEC.md §1.2, §1.1 remax): REINFORCE++ returns, GAE (verl and
 * OpenRLHF conventions) and ReMax, each giving advantages and returns per token, on every backend.
 * Rows are scanned backwards (padded rows or packed CSR segments), then whitened over the whole
 * batch where the reference does.
 */
import { describe, fail } from '../errors.js';
import { checkEnum, checkFinite } from '../tensor.js';
import { runOp, type Backend } from '../backends/select.js';
import { floatsOf, outArray, prepareLayout, type LayoutOptions, type TokenLayout } from '../layout.js';
import type { GpuContext } from '../backends/webgpu/context.js';
import { tooFewTokens } from './masked.js';
import { tokenJs } from './token.ref.js';
import { tokenNative } from './token.native.js';
import { tokenWebgpu } from './token.gpu.js';

type Floats = Float32Array | Float64Array | number[];

export interface TokenEstimatorOptions extends LayoutOptions {
  /** Token-level rewards (verl token_level_rewards): [B·T] (padded) or [offsets[B]] (packed). */
  rewards: Floats;
  backend?: Backend;
  /** Arrays to write into (length: the token count). */
  out?: { advantages?: Float32Array; returns?: Float32Array };
  /** The WebGPU context to use (default: the shared one). */
  context?: GpuContext;
}

export interface ReinforcePlusPlusOptions extends TokenEstimatorOptions {
  /** Discount γ (default 1). */
  gamma?: number;
}

export type GaePreset = 'verl' | 'openrlhf';

export interface GaeOptions extends TokenEstimatorOptions {
  /** Critic values per token, same length as rewards. */
  values: Floats;
  /** Discount γ (default 1). */
  gamma?: number;
  /** GAE λ (default 1). */
  lambda?: number;
  /**
   * `verl` (default): values and advantages carry across untrained tokens, returns = adv + V,
   * advantages whitened with verl's masked_whiten and not re-masked. `openrlhf`: V and R zeroed
   * off the mask first, no carry, whitening with the biased variance and rsqrt(max(var, 1e-8)).
   */
  preset?: GaePreset;
}

export interface RemaxOptions extends TokenEstimatorOptions {
  /** The greedy-decoding baseline score per row [B] (verl reward_baselines). */
  baselines: Floats;
}

export interface TokenAdvantageResult {
  /** Advantages per token (whitened for reinforce++ and GAE). */
  advantages: Float32Array;
  /** Returns per token, before any whitening. */
  returns: Float32Array;
  backend: 'js' | 'native' | 'webgpu';
}

export type TokenEstimator = 'reinforce' | 'gae-verl' | 'gae-openrlhf' | 'remax';
export const estimatorCode: Record<TokenEstimator, number> = { reinforce: 0, 'gae-verl': 1, 'gae-openrlhf': 2, remax: 3 };

/** The validated problem every backend receives. */
export interface TokenProblem {
  estimator: TokenEstimator;
  layout: TokenLayout;
  rewards: Float32Array;
  values: Float32Array | null; // GAE
  baselines: Float32Array | null; // ReMax, [B]
  gamma: number;
  lambda: number;
  outAdvantages: Float32Array;
  outReturns: Float32Array;
}

/** The trained-token count the whitening saw (backends report it; too few raises E_VALUE). */
export interface TokenRaw {
  count: number;
}

function discount(value: unknown, argument: string): number {
  if (value === undefined) return 1;
  const v = checkFinite(value, argument);
  if (v < 0) fail('E_VALUE', argument, 'a finite number >= 0', describe(v));
  return v;
}

export function prepareToken(estimator: TokenEstimator, options: GaeOptions & RemaxOptions): TokenProblem {
  if (options === null || typeof options !== 'object') fail('E_VALUE', 'options', 'an options object', describe(options));
  const layout = prepareLayout(options);
  const what = layout.cols ? 'B*T' : 'offsets[B]';
  const rewards = floatsOf(options.rewards, 'rewards', layout.tokens, what);
  const gae = estimator.startsWith('gae');
  const values = gae ? floatsOf(options.values, 'values', layout.tokens, what) : null;
  const baselines = estimator === 'remax' ? floatsOf(options.baselines, 'baselines', layout.rows, 'B, one per row') : null;
  const out = options.out;
  if (out !== undefined && (out === null || typeof out !== 'object')) fail('E_VALUE', 'out', 'an object { advantages?, returns? }', describe(out));
  return {
    estimator, layout, rewards, values, baselines,
    gamma: estimator === 'remax' ? 1 : discount(options.gamma, 'gamma'),
    lambda: gae ? discount(options.lambda, 'lambda') : 1,
    outAdvantages: outArray(out?.advantages, 'out.advantages', layout.tokens),
    outReturns: outArray(out?.returns, 'out.returns', layout.tokens),
  };
}

/** verl's whitening needs >= 2 trained tokens, OpenRLHF's >= 1 (it divides by ΣM); ReMax does not whiten. */
export function checkCount(estimator: TokenEstimator, count: number): void {
  if (estimator === 'remax') return;
  if (estimator === 'gae-openrlhf') {
    if (count < 1) fail('E_VALUE', 'mask', 'at least 1 trained token (OpenRLHF whitening divides by the trained-token count)', '0');
    return;
  }
  if (count <= 1) tooFewTokens('mask', count);
}

function run(estimator: TokenEstimator, options: GaeOptions & RemaxOptions): Promise<TokenAdvantageResult> {
  const p = prepareToken(estimator, options);
  const done = (raw: TokenRaw, backend: TokenAdvantageResult['backend']): TokenAdvantageResult => {
    checkCount(estimator, raw.count);
    return { advantages: p.outAdvantages, returns: p.outReturns, backend };
  };
  return runOp(estimator === 'remax' ? 'remax' : estimator === 'reinforce' ? 'reinforcePlusPlus' : 'gae', options.backend, p.layout.tokens + p.layout.rows, {
    js: async () => done(tokenJs(p), 'js'),
    native: async () => done(await tokenNative(p), 'native'),
    webgpu: async () => done(await tokenWebgpu(p, options.context), 'webgpu'),
  });
}

/**
 * REINFORCE++ (verl compute_reinforce_plus_plus_outcome_advantage): discounted returns reset after
 * each untrained token, advantages = masked_whiten(returns, M)·M over the whole batch.
 */
export function reinforcePlusPlus(options: ReinforcePlusPlusOptions): Promise<TokenAdvantageResult> {
  return run('reinforce', options as GaeOptions & RemaxOptions);
}

/** GAE (verl compute_gae_advantage_return, or OpenRLHF get_advantages_and_returns + its whitening). */
export function gae(options: GaeOptions): Promise<TokenAdvantageResult> {
  const preset = checkEnum(options?.preset ?? 'verl', 'preset', ['verl', 'openrlhf'] as const);
  return run(preset === 'verl' ? 'gae-verl' : 'gae-openrlhf', options as GaeOptions & RemaxOptions);
}

/** ReMax (verl compute_remax_outcome_advantage): returns = reverse cumsum of R·M, advantages = returns − b·M. */
export function remax(options: RemaxOptions): Promise<TokenAdvantageResult> {
  return run('remax', options as GaeOptions & RemaxOptions);
}
