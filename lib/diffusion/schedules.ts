/**
 * Sampling schedules (SPEC.md §3.1), bit-for-bit equal to the tables the reference pipelines build.
 * Plain JS only: a table has at most a few thousand entries and is built once per run, so a native or
 * GPU version would cost more in the call than the work. Each function mirrors the reference's own
 * arithmetic — f64 (numpy) or f32 (torch) step by step, emulated with Math.fround — because the
 * sigma a step reads must be the very f32 value the reference stepped with.
 */
import { describe, fail } from '../errors.js';
import { checkEnum, checkFinite, checkSize } from '../tensor.js';

const f = Math.fround;

/** A flow-matching schedule: sigmas [N+1] (the last is 0) and timesteps [N] = f32(σ·1000). */
export interface FlowSchedule {
  kind: 'flow';
  sigmas: Float32Array;
  timesteps: Float32Array;
}

/** A DDPM/DDIM schedule: ᾱ over the training steps and the N sampling timesteps (descending). */
export interface DdimSchedule {
  kind: 'ddim';
  alphasCumprod: Float32Array;
  timesteps: Int32Array;
  numTrainTimesteps: number;
  /** ᾱ used when the previous timestep is negative (never, after DDPO's clamp); 1 with setAlphaToOne. */
  finalAlphaCumprod: number;
  prediction: 'epsilon' | 'v_prediction';
}

function steps(n: unknown, argument: string): number {
  return checkSize(n, argument, 1);
}

/** numpy.linspace(start, stop, num) in f64: i·step + start, the last entry exactly `stop`. */
export function linspace64(start: number, stop: number, num: number): Float64Array {
  const y = new Float64Array(num);
  const step = num > 1 ? (stop - start) / (num - 1) : 0;
  for (let i = 0; i < num; i++) y[i] = i * step + start;
  if (num > 1) y[num - 1] = stop;
  return y;
}

/**
 * torch.linspace(start, stop, steps, dtype=float32): an f32 step, the first half `start + step·i`,
 * the second `stop − step·(n−1−i)`, each a fused multiply-add (one rounding: the f64 product of an
 * f32 and a small integer is exact). Without the fusion 121 of SD1.5's 1000 ᾱ entries differ.
 */
export function linspace32(start: number, stop: number, num: number): Float32Array {
  const y = new Float32Array(num);
  const a = f(start), b = f(stop);
  const step = num > 1 ? f(f(b - a) / (num - 1)) : 0;
  const half = Math.floor(num / 2);
  for (let i = 0; i < num; i++) y[i] = i < half ? f(a + step * i) : f(b - step * (num - 1 - i));
  return y;
}

function appendZero(s: ArrayLike<number>): FlowSchedule {
  const n = s.length;
  const sigmas = new Float32Array(n + 1);
  sigmas.set(Array.from(s));
  const timesteps = new Float32Array(n);
  for (let i = 0; i < n; i++) timesteps[i] = f(sigmas[i]! * 1000);
  return { kind: 'flow', sigmas, timesteps };
}

/**
 * SD3 / SD3.5 (diffusers FlowMatchEulerDiscreteScheduler, shift 3, as Flow-GRPO samples):
 * t = linspace(1000, 1000·σmin, N) in f64 where σmin = the f32 shifted last training sigma
 * (shift(0.001) = 0.0029940), σ = shift(t/1000) in f64, cast to f32, then a 0 appended.
 */
export function sd3Sigmas(numSteps: number, shift = 3): FlowSchedule {
  const N = steps(numSteps, 'numSteps');
  const s = checkFinite(shift, 'shift', 0);
  const sf = f(s);
  const sigmaMin = f(f(sf * f(0.001)) / f(1 + f(f(sf - 1) * f(0.001)))); // torch f32, in __init__
  const t = linspace64(1000, sigmaMin * 1000, N);
  const out = new Float64Array(N);
  for (let i = 0; i < N; i++) {
    const sig = t[i]! / 1000;
    out[i] = (s * sig) / (1 + (s - 1) * sig);
  }
  return appendZero(out);
}

/** Flux's μ from the packed image token count L: μ = L·m + b, m = (1.15 − 0.5)/(4096 − 256), b = 0.5 − 256m. */
export function fluxMu(imageSeqLen: number, baseSeqLen = 256, maxSeqLen = 4096, baseShift = 0.5, maxShift = 1.15): number {
  const L = checkFinite(imageSeqLen, 'imageSeqLen', 0);
  const m = (maxShift - baseShift) / (maxSeqLen - baseSeqLen);
  const b = baseShift - m * baseSeqLen;
  return L * m + b;
}

/**
 * Flux.1 (diffusers FluxPipeline): σ = linspace(1, 1/N, N) in f64, cast to f32 (the scheduler takes
 * the given sigmas as an f32 array), σ' = e^μ/(e^μ + (1/σ − 1)) in f32 numpy arithmetic, append 0.
 * `mu` defaults to fluxMu(imageSeqLen).
 */
export function fluxSigmas(numSteps: number, options: { imageSeqLen?: number; mu?: number } = {}): FlowSchedule {
  const N = steps(numSteps, 'numSteps');
  if (options === null || typeof options !== 'object') fail('E_VALUE', 'options', 'an object { imageSeqLen } or { mu }', describe(options));
  let mu: number;
  if (options.mu !== undefined) mu = checkFinite(options.mu, 'mu');
  else if (options.imageSeqLen !== undefined) mu = fluxMu(options.imageSeqLen);
  else fail('E_VALUE', 'imageSeqLen', 'the packed image token count (or mu)', 'neither');
  const base = linspace64(1, 1 / N, N);
  const em = f(Math.exp(mu));
  const out = new Float32Array(N);
  for (let i = 0; i < N; i++) {
    const sig = f(base[i]!);
    out[i] = f(em / f(em + f(f(1 / sig) - 1)));
  }
  return appendZero(out);
}

/** DanceGRPO: sd3_time_shift(3, torch.linspace(1, 0, N+1)) = 3t/(1+2t) in torch f32 (the last is 0 already). */
export function danceSigmas(numSteps: number, shift = 3): FlowSchedule {
  const N = steps(numSteps, 'numSteps');
  const s = f(checkFinite(shift, 'shift', 0));
  const t = linspace32(1, 0, N + 1);
  const sigmas = new Float32Array(N + 1);
  for (let i = 0; i <= N; i++) sigmas[i] = f(f(s * t[i]!) / f(1 + f(f(s - 1) * t[i]!)));
  const timesteps = new Float32Array(N);
  for (let i = 0; i < N; i++) timesteps[i] = f(sigmas[i]! * 1000);
  return { kind: 'flow', sigmas, timesteps };
}

export type TimestepSpacing = 'leading' | 'trailing' | 'linspace';

export interface DdimScheduleOptions {
  /** Default 1000. */
  numTrainTimesteps?: number;
  /** Default 0.00085 and 0.012 (SD1.x scaled_linear). */
  betaStart?: number;
  betaEnd?: number;
  /** 'scaled_linear' (default; β = linspace(√β0, √β1)²) or 'linear'. */
  betaSchedule?: 'scaled_linear' | 'linear';
  /** 'leading' (default, SD1.x), 'trailing' or 'linspace'. */
  spacing?: TimestepSpacing;
  /** Added to leading timesteps (SD1.x: 1). */
  stepsOffset?: number;
  /** final_alpha_cumprod = 1 instead of ᾱ[0] (SD1.x: false). */
  setAlphaToOne?: boolean;
  prediction?: 'epsilon' | 'v_prediction';
}

/**
 * DDPM/DDIM (diffusers DDIMScheduler): β in torch f32, ᾱ = cumprod(1 − β) (torch's CPU cumprod
 * accumulates in f64 and rounds each entry), timesteps by spacing.
 */
export function ddimSchedule(numSteps: number, options: DdimScheduleOptions = {}): DdimSchedule {
  const N = steps(numSteps, 'numSteps');
  if (options === null || typeof options !== 'object') fail('E_VALUE', 'options', 'an options object', describe(options));
  const T = checkSize(options.numTrainTimesteps ?? 1000, 'numTrainTimesteps', 1);
  if (N > T) fail('E_RANGE', 'numSteps', `at most numTrainTimesteps = ${T}`, String(N));
  const b0 = checkFinite(options.betaStart ?? 0.00085, 'betaStart', 0);
  const b1 = checkFinite(options.betaEnd ?? 0.012, 'betaEnd', 0);
  const kind = checkEnum(options.betaSchedule ?? 'scaled_linear', 'betaSchedule', ['scaled_linear', 'linear'] as const);
  const spacing = checkEnum(options.spacing ?? 'leading', 'spacing', ['leading', 'trailing', 'linspace'] as const);
  const offset = checkSize(options.stepsOffset ?? 1, 'stepsOffset');
  const prediction = checkEnum(options.prediction ?? 'epsilon', 'prediction', ['epsilon', 'v_prediction'] as const);
  const betas = kind === 'linear' ? linspace32(b0, b1, T) : linspace32(Math.sqrt(b0), Math.sqrt(b1), T).map((x) => f(x * x));
  const alphasCumprod = new Float32Array(T);
  let acc = 1;
  for (let i = 0; i < T; i++) { acc *= f(1 - betas[i]!); alphasCumprod[i] = acc; }
  const timesteps = new Int32Array(N);
  if (spacing === 'leading') {
    const ratio = Math.floor(T / N);
    for (let i = 0; i < N; i++) timesteps[i] = (N - 1 - i) * ratio + offset;
  } else if (spacing === 'trailing') {
    const ratio = T / N;
    for (let i = 0; i < N; i++) timesteps[i] = roundHalfEven(T - i * ratio) - 1;
  } else {
    const t = linspace64(0, T - 1, N);
    for (let i = 0; i < N; i++) timesteps[i] = roundHalfEven(t[N - 1 - i]!);
  }
  for (const t of timesteps) if (t < 0 || t >= T) fail('E_RANGE', 'stepsOffset', `timesteps within [0, ${T})`, `timestep ${t}`);
  return { kind: 'ddim', alphasCumprod, timesteps, numTrainTimesteps: T, finalAlphaCumprod: options.setAlphaToOne ? 1 : alphasCumprod[0]!, prediction };
}

/** numpy's round(): half to even. */
function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}
