/**
 * Per-token KL estimators between the policy and a reference policy (SPEC.md §1.4 "KL
 * estimators"), with the gradients torch autograd gives, in the conventions of verl
 * (core_algos.kl_penalty), OpenRLHF (models/utils.compute_approx_kl) and TRL (GRPOTrainer /
 * PPOTrainer). The op's one declaration: options, presets, validation, the public function.
 */
import { describe, fail } from '../errors.js';
import { checkEnum } from '../tensor.js';
import { runOp, type Backend } from '../backends/select.js';
import { floatsOf, outArray, prepareLayout, type LayoutOptions, type TokenLayout } from '../layout.js';
import type { GpuContext } from '../backends/webgpu/context.js';
import { klPenaltyJs } from './kl.ref.js';
import { klPenaltyNative } from './kl.native.js';
import { klPenaltyWebgpu } from './kl.gpu.js';

export type KlPreset = 'verl' | 'openrlhf' | 'trl';
/** Estimator names as each library spells them (aliases: kl = k1, mse = k2, low_var_kl = k3). */
export type KlEstimator = 'k1' | 'kl' | 'abs' | 'k2' | 'mse' | 'k3' | 'low_var_kl';

/** The names each preset's reference code accepts; anything else raises there, and here. */
export const klEstimators: Record<KlPreset, readonly KlEstimator[]> = {
  verl: ['k1', 'kl', 'abs', 'k2', 'mse', 'k3', 'low_var_kl'], // kl_penalty_forward
  openrlhf: ['k1', 'k2', 'k3'], // compute_approx_kl(kl_estimator=...)
  trl: ['k1', 'k3'], // PPOTrainer kl_estimator (k1, k3); GRPOTrainer's KL is k3
};

/**
 * Kernel codes shared by every backend (kl.ref.ts, native/kl.cc, shaders/kl_*.wgsl): one per
 * preset × estimator, since each library rounds and clamps differently.
 */
export const KlCode = {
  verlK1: 0, verlAbs: 1, verlK2: 2, verlK3: 3,
  openrlhfK1: 4, openrlhfK2: 5, openrlhfK3: 6,
  trlK1: 7, trlK3: 8,
} as const;
export type KlCode = (typeof KlCode)[keyof typeof KlCode];

const canonical: Record<KlEstimator, 'k1' | 'abs' | 'k2' | 'k3'> = { k1: 'k1', kl: 'k1', abs: 'abs', k2: 'k2', mse: 'k2', k3: 'k3', low_var_kl: 'k3' };

/** The kernel code for a preset and estimator name, or a RewardkitError naming `argument`. */
export function klCode(preset: KlPreset, estimator: unknown, argument = 'estimator'): KlCode {
  if (typeof estimator === 'string' && preset === 'verl' && (estimator === 'full' || estimator.endsWith('+'))) {
    // verl b178a3cd: 'full' is unimplemented and kl_penalty_forward never strips the '+' of the
    // straight-through names, so every '+' name raises NotImplementedError (conformance verl_kl.json).
    fail('E_VALUE', argument, `one of ${klEstimators.verl.map((e) => `'${e}'`).join(', ')} (verl raises NotImplementedError for '${estimator}'; use straightThrough: true for the k2 gradient)`, describe(estimator));
  }
  const name = checkEnum(estimator, argument, klEstimators[preset]);
  const kind = canonical[name];
  if (preset === 'verl') return ({ k1: KlCode.verlK1, abs: KlCode.verlAbs, k2: KlCode.verlK2, k3: KlCode.verlK3 } as const)[kind];
  if (preset === 'openrlhf') return ({ k1: KlCode.openrlhfK1, k2: KlCode.openrlhfK2, k3: KlCode.openrlhfK3 } as Record<string, KlCode>)[kind]!;
  return kind === 'k1' ? KlCode.trlK1 : KlCode.trlK3;
}

export interface KlInputs extends LayoutOptions {
  /** log π(y_t) of the policy, one per token: [B·T] (padded) or [offsets[B]] (packed). */
  logProbs: Float32Array | Float64Array | number[];
  /** log π_ref(y_t) of the reference policy, same length. */
  refLogProbs: Float32Array | Float64Array | number[];
  /** Default 'k1' (verl's algorithm.kl_penalty "kl", OpenRLHF's and TRL PPO's default). */
  estimator?: KlEstimator;
  /** Whose rounding and clamping to reproduce (default 'verl'). */
  preset?: KlPreset;
  backend?: Backend;
  /** The WebGPU context to use (default: the shared lazily created one). */
  context?: GpuContext;
}

export interface KlPenaltyOptions extends KlInputs {
  /** Also return ∂kl/∂logp and ∂kl/∂ref per token (default true). */
  gradients?: boolean;
  /**
   * The gradient of k2 (½d², i.e. d) with the chosen estimator's value: what verl's 'k3+' style
   * names are meant to give (verl itself raises for them). Default false.
   */
  straightThrough?: boolean;
  /** Arrays to write into (length = tokens). */
  out?: { kl?: Float32Array; gradLogProbs?: Float32Array; gradRefLogProbs?: Float32Array };
}

export interface KlPenaltyResult {
  /** The estimate per token; 0 on masked tokens. */
  kl: Float32Array;
  /** ∂kl/∂logp per token as torch autograd gives it (0 where a clamp is active, 0 on masked tokens); absent with gradients: false. */
  gradLogProbs?: Float32Array;
  /** ∂kl/∂ref per token (= −gradLogProbs: every estimator is a function of logp − ref). */
  gradRefLogProbs?: Float32Array;
  backend: 'js' | 'native' | 'webgpu';
}

/** The validated problem every backend receives. */
export interface KlProblem {
  layout: TokenLayout;
  logProbs: Float32Array;
  refLogProbs: Float32Array;
  code: KlCode;
  straightThrough: boolean;
  outKl: Float32Array;
  /** null when gradients are off. */
  outGrad: Float32Array | null;
  outGradRef: Float32Array | null;
}

export function checkOptions(options: unknown): asserts options is object {
  if (options === null || typeof options !== 'object') fail('E_VALUE', 'options', 'an options object', describe(options));
}

export function checkFlag(value: unknown, argument: string, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (typeof value !== 'boolean') fail('E_VALUE', argument, 'a boolean', describe(value));
  return value;
}

export function checkOut(out: unknown, keys: string): Record<string, unknown> | undefined {
  if (out === undefined) return undefined;
  if (out === null || typeof out !== 'object') fail('E_VALUE', 'out', `an object { ${keys} }`, describe(out));
  return out as Record<string, unknown>;
}

/** Layout, both log-prob arrays and the kernel code, validated. */
export function prepareInputs(options: KlInputs): { layout: TokenLayout; logProbs: Float32Array; refLogProbs: Float32Array; code: KlCode } {
  checkOptions(options);
  const preset = checkEnum(options.preset ?? 'verl', 'preset', ['verl', 'openrlhf', 'trl'] as const);
  const code = klCode(preset, options.estimator ?? 'k1');
  const layout = prepareLayout(options);
  const logProbs = floatsOf(options.logProbs, 'logProbs', layout.tokens, 'one per token');
  const refLogProbs = floatsOf(options.refLogProbs, 'refLogProbs', layout.tokens, 'one per token');
  return { layout, logProbs, refLogProbs, code };
}

export function prepareKl(options: KlPenaltyOptions): KlProblem {
  const inputs = prepareInputs(options);
  const gradients = checkFlag(options.gradients, 'gradients', true);
  const straightThrough = checkFlag(options.straightThrough, 'straightThrough', false);
  const out = checkOut(options.out, 'kl?, gradLogProbs?, gradRefLogProbs?');
  const n = inputs.layout.tokens;
  return {
    ...inputs, straightThrough,
    outKl: outArray(out?.['kl'], 'out.kl', n),
    outGrad: gradients ? outArray(out?.['gradLogProbs'], 'out.gradLogProbs', n) : null,
    outGradRef: gradients ? outArray(out?.['gradRefLogProbs'], 'out.gradRefLogProbs', n) : null,
  };
}

function finish(p: KlProblem, backend: KlPenaltyResult['backend']): KlPenaltyResult {
  const r: KlPenaltyResult = { kl: p.outKl, backend };
  if (p.outGrad && p.outGradRef) { r.gradLogProbs = p.outGrad; r.gradRefLogProbs = p.outGradRef; }
  return r;
}

/**
 * Per-token KL estimate and its gradients, `d = logp − ref`:
 * - verl: k1 `d`; abs `|d|`; k2 `½d²`; k3 `clamp(e^k − k − 1, ±10)` with `k = clamp(−d, ±20)`;
 * - OpenRLHF: k1 / k2 / k3 (`e^k − 1 − k`, `k = −d`) clamped to [−10, 10], no input clamp;
 * - TRL: k1 `−(ref − logp)`, k3 `e^k − k − 1` without clamps.
 * Every value is computed with the reference's f32 operations in its order; masked tokens give 0.
 */
export async function klPenalty(options: KlPenaltyOptions): Promise<KlPenaltyResult> {
  const p = prepareKl(options);
  return runOp('klPenalty', options.backend, p.layout.tokens, {
    js: async () => { klPenaltyJs(p); return finish(p, 'js'); },
    native: async () => { await klPenaltyNative(p); return finish(p, 'native'); },
    webgpu: async () => { await klPenaltyWebgpu(p, options.context); return finish(p, 'webgpu'); },
  });
}
