/**
 * One diffusion sampling step with its Gaussian log-probability (SPEC.md §3.2): Flow-GRPO 'sde' and
 * 'cps', the ODE (Euler) step, DanceGRPO's flux_step and DDPO's DDIM step — the op's one declaration.
 *
 * Every method is affine in (x, v) per row, so validation folds the schedule into eight per-row
 * coefficients (computed once, in JS, with the reference's f32 scalar arithmetic) and all backends run
 * the same elementwise kernel: mean = ax·x + av·v, x̂0 = bx·x + bv·v, prev = mean + s·ε (or the given
 * prev), plus the per-row Σ(prev − mean)² in the same pass; the log-prob is finished here from those
 * sums: Gaussian −Σd²/(n·2s²) − log s − log√(2π); 'cps' −Σd²/n.
 */
import { describe, fail } from '../errors.js';
import { checkEnum, checkFinite, checkSize, type IndexArray } from '../tensor.js';
import { runOp, type Backend } from '../backends/select.js';
import type { GpuContext } from '../backends/webgpu/context.js';
import type { DdimSchedule, FlowSchedule } from './schedules.js';
import { stepJs } from './step.ref.js';
import { stepNative } from './step.native.js';
import { stepWebgpu } from './step.gpu.js';

export type StepMethod = 'sde' | 'cps' | 'ode' | 'dance' | 'ddim';
export type LatentDtype = 'f32' | 'f16' | 'bf16';
/** f32 values, or f16/bf16 bit patterns in a Uint16Array (with `dtype`). */
export type Latents = Float32Array | Uint16Array;

export interface DiffusionStepOptions {
  /** 'sde' (Flow-GRPO, default), 'cps' (Flow-GRPO), 'ode' (Euler), 'dance' (DanceGRPO flux_step), 'ddim' (DDPO). */
  method?: StepMethod;
  /** A flow schedule (sd3Sigmas, fluxSigmas, danceSigmas, or any { sigmas } of N+1 values) or ddimSchedule(). */
  schedule: FlowSchedule | DdimSchedule | { sigmas: Float32Array | number[] };
  /** The model's prediction (velocity; ε or v for DDIM), [B, …] row-major. */
  modelOutput: Latents;
  /** The current latents x_t, same shape. */
  sample: Latents;
  /** [B, …] of any rank >= 1; the log-prob is a mean over all but the first axis. */
  shape: readonly number[];
  /** Storage of modelOutput/sample/prevSample: 'f32' (Float32Array, the default) or 'f16'/'bf16' (Uint16Array bits). Math is f32. */
  dtype?: LatentDtype;
  /** Step index per row (or one for all rows): σ = sigmas[i], σp = sigmas[i+1]; DDIM t = timesteps[i]. */
  stepIndex: number | IndexArray;
  /** 'sde'/'cps': noise_level a (0.7); 'dance': η (0.3); 'ddim': η (1.0). Ignored by 'ode'. */
  noiseLevel?: number;
  /** The N(0,1) noise ε to use [B·n] (e.g. torch's own draw); else drawn from `seed` (see rng.ts). */
  noise?: Float32Array;
  /** Seed (integer in [0, 2^32)) of the counter-based generator; default 0. */
  seed?: number;
  /** A stored trajectory's next latents: recompute the log-prob of this transition instead of sampling. */
  prevSample?: Latents;
  /** Also return x̂0 (x − σv; DDIM's pred_original_sample). */
  predictX0?: boolean;
  backend?: Backend;
  out?: { prevSample?: Float32Array; prevSampleMean?: Float32Array; predX0?: Float32Array };
  context?: GpuContext;
}

export interface DiffusionStepResult {
  prevSample: Float32Array;
  prevSampleMean: Float32Array;
  /** Per row: the reference's std_dev_t (sde: before ·sqrt(−dt)). */
  std: Float32Array;
  /** Per row: the std of prevSample around the mean (sde: std·sqrt(−dt); others: std). */
  scale: Float32Array;
  /** Per row: mean over the row's elements of the log-density (NaN where the scale is 0, except 'cps'). */
  logProb: Float32Array;
  predX0?: Float32Array;
  backend: 'js' | 'native' | 'webgpu';
}

/** Per-row coefficients (COEFS values a row): mean = ax·x + av·v, x̂0 = bx·x + bv·v, prev = mean + s·ε. */
export const COEFS = 4;

/** The validated, normalised problem every backend receives. */
export interface StepProblem {
  rows: number;
  inner: number; // elements per row
  total: number; // rows·inner < 2^32
  dtype: LatentDtype;
  modelOutput: Latents;
  sample: Latents;
  prevSample: Latents | null;
  noise: Float32Array | null;
  seed: number;
  /** [rows·4]: ax, av, bx, bv as f32 values (what every backend multiplies with). */
  coef: Float32Array;
  /** [rows]: the noise scale s (f32). */
  scale: Float32Array;
  std: Float32Array;
  /** Per row: the Gaussian log-prob (true) or 'cps' −d² (false). */
  gaussian: boolean;
  /** Per row: log s + log√(2π) (f64, Gaussian only). */
  lpConst: Float64Array;
  predictX0: boolean;
  outPrev: Float32Array;
  outMean: Float32Array;
  outX0: Float32Array | null;
}

const f = Math.fround;
const LOG_SQRT_2PI = Math.fround(Math.log(Math.fround(Math.sqrt(Math.fround(2 * Math.PI)))));

function latents(value: unknown, argument: string, dtype: LatentDtype, length: number): Latents {
  const want = dtype === 'f32' ? Float32Array : Uint16Array;
  if (!(value instanceof want)) fail('E_DTYPE', argument, `a ${want.name} (dtype '${dtype}')`, describe(value));
  if (value.length !== length) fail('E_SHAPE', argument, `length ${length} (the product of shape)`, `length ${value.length}`);
  return value;
}

function outF32(value: unknown, argument: string, length: number): Float32Array {
  if (value === undefined) return new Float32Array(length);
  if (!(value instanceof Float32Array)) fail('E_DTYPE', argument, 'a Float32Array', describe(value));
  if (value.length !== length) fail('E_SHAPE', argument, `length ${length}`, `length ${value.length}`);
  return value;
}

/** Validate and normalise the options; throws RewardkitError naming the argument at fault. */
export function prepareStep(options: DiffusionStepOptions): StepProblem {
  if (options === null || typeof options !== 'object') fail('E_VALUE', 'options', 'an options object', describe(options));
  const method = checkEnum(options.method ?? 'sde', 'method', ['sde', 'cps', 'ode', 'dance', 'ddim'] as const);
  const shape = options.shape;
  if (!Array.isArray(shape) || shape.length < 1) fail('E_SHAPE', 'shape', '[B, …] (at least one axis)', describe(shape));
  const rows = checkSize(shape[0], 'shape[0]', 1);
  let inner = 1;
  for (let i = 1; i < shape.length; i++) inner *= checkSize(shape[i], `shape[${i}]`, 1);
  const total = rows * inner;
  if (total > 2 ** 32 - 1) fail('E_RANGE', 'shape', 'fewer than 2^32 elements', String(total));
  const dtype = checkEnum(options.dtype ?? 'f32', 'dtype', ['f32', 'f16', 'bf16'] as const);
  if (options.dtype === undefined && options.modelOutput instanceof Uint16Array) fail('E_DTYPE', 'dtype', "'f16' or 'bf16' for Uint16Array latents", 'undefined');
  const modelOutput = latents(options.modelOutput, 'modelOutput', dtype, total);
  const sample = latents(options.sample, 'sample', dtype, total);
  const prevSample = options.prevSample === undefined ? null : latents(options.prevSample, 'prevSample', dtype, total);
  let noise: Float32Array | null = null;
  if (options.noise !== undefined) {
    if (prevSample) fail('E_VALUE', 'noise', 'no noise when prevSample is given (nothing is drawn)', 'both');
    if (!(options.noise instanceof Float32Array)) fail('E_DTYPE', 'noise', 'a Float32Array', describe(options.noise));
    if (options.noise.length !== total) fail('E_SHAPE', 'noise', `length ${total}`, `length ${options.noise.length}`);
    noise = options.noise;
  }
  const seed = options.seed === undefined ? 0 : checkSize(options.seed, 'seed');
  if (seed > 0xffffffff) fail('E_RANGE', 'seed', 'an integer in [0, 2^32)', String(seed));
  if (options.predictX0 !== undefined && typeof options.predictX0 !== 'boolean') fail('E_VALUE', 'predictX0', 'a boolean', describe(options.predictX0));
  const predictX0 = options.predictX0 ?? false;

  // Step index per row.
  const si = options.stepIndex;
  const stepOf = (i: number): unknown => (typeof si === 'number' ? si : (si as ArrayLike<number>)[i]);
  if (typeof si !== 'number') {
    if (!(Array.isArray(si) || si instanceof Uint32Array || si instanceof Int32Array)) fail('E_DTYPE', 'stepIndex', 'an integer or an integer array [B]', describe(si));
    if (si.length !== rows) fail('E_SHAPE', 'stepIndex', `length B = ${rows}`, `length ${si.length}`);
  }

  const given = options.schedule as unknown;
  if (given === null || typeof given !== 'object') fail('E_VALUE', 'schedule', 'a flow schedule { sigmas } or ddimSchedule()', describe(given));
  const sched = given as Partial<Omit<DdimSchedule, 'kind'>> & { kind?: string; sigmas?: unknown };
  const coef = new Float32Array(rows * COEFS), scale = new Float32Array(rows), std = new Float32Array(rows), lpConst = new Float64Array(rows);
  const set = (r: number, ax: number, av: number, bx: number, bv: number, s: number, sd: number) => {
    coef[r * 4] = ax; coef[r * 4 + 1] = av; coef[r * 4 + 2] = bx; coef[r * 4 + 3] = bv;
    scale[r] = s; std[r] = sd; lpConst[r] = Math.log(f(s)) + LOG_SQRT_2PI;
  };
  if (method === 'ddim') {
    if (sched.kind !== 'ddim' || !(sched.alphasCumprod instanceof Float32Array) || !(sched.timesteps instanceof Int32Array)) fail('E_VALUE', 'schedule', "a DDIM schedule (ddimSchedule()) for method 'ddim'", describe(sched));
    const eta = checkFinite(options.noiseLevel ?? 1, 'noiseLevel');
    if (eta < 0) fail('E_VALUE', 'noiseLevel', 'η >= 0', String(eta));
    const ac = sched.alphasCumprod, T = ac.length, N = sched.timesteps.length;
    const ratio = Math.floor((sched.numTrainTimesteps ?? T) / N);
    for (let r = 0; r < rows; r++) {
      const i = checkIndex(stepOf(r), r, N);
      const t = sched.timesteps[i]!;
      if (!(t >= 0 && t < T)) fail('E_RANGE', 'schedule', `timesteps within [0, ${T})`, String(t));
      const tp = Math.min(Math.max(t - ratio, 0), T - 1);
      // ddim_step_with_logprob: f32 tensors throughout.
      const at = ac[t]!, ap = ac[tp]!;
      const bt = f(1 - at), bp = f(1 - ap);
      const variance = f(f(bp / bt) * f(1 - f(at / ap)));
      const sd = f(f(eta) * f(Math.sqrt(variance)));
      const sat = f(Math.sqrt(at)), sbt = f(Math.sqrt(bt)), sap = f(Math.sqrt(ap));
      const dir = f(Math.sqrt(f(f(1 - ap) - f(sd * sd))));
      let bx: number, bv: number, ex: number, ev: number; // x̂0 and ε̂ as affine maps of (x, v)
      if (sched.prediction === 'v_prediction') { bx = sat; bv = -sbt; ex = sbt; ev = sat; }
      else { bx = 1 / sat; bv = -sbt / sat; ex = 0; ev = 1; }
      set(r, sap * bx + dir * ex, sap * bv + dir * ev, bx, bv, sd, sd);
    }
  } else {
    const sig = sched.sigmas;
    if (!(sig instanceof Float32Array || Array.isArray(sig)) || sig.length < 2) fail('E_VALUE', 'schedule', `a flow schedule with sigmas [N+1] for method '${method}'`, describe(sched));
    const sigmas = Float32Array.from(sig as ArrayLike<number>);
    for (let i = 0; i < sigmas.length; i++) {
      if (!(sigmas[i]! >= 0 && sigmas[i]! <= 1)) fail('E_VALUE', `schedule.sigmas[${i}]`, 'a sigma in [0, 1]', describe(sigmas[i]));
      // Strictly decreasing everywhere: σmax = sigmas[1] < 1 keeps Flow-GRPO's first-step std finite.
      if (i > 0 && !(sigmas[i]! < sigmas[i - 1]!)) fail('E_VALUE', 'schedule.sigmas', `strictly decreasing sigmas (index ${i - 1}: ${sigmas[i - 1]} → ${sigmas[i]})`, 'not decreasing');
    }
    const N = sigmas.length - 1;
    const a = checkFinite(options.noiseLevel ?? (method === 'dance' ? 0.3 : 0.7), 'noiseLevel');
    if (a < 0) fail('E_VALUE', 'noiseLevel', 'a noise level >= 0', String(a));
    const fa = f(a), smax = sigmas[1]!;
    for (let r = 0; r < rows; r++) {
      const i = checkIndex(stepOf(r), r, N);
      const s = sigmas[i]!, sp = sigmas[i + 1]!;
      const dt = f(sp - s);
      if (method === 'sde' || method === 'ode') {
        // std_dev_t = sqrt(σ/(1 − (σ==1 ? σmax : σ)))·a; the drift keeps Flow-GRPO's grouping.
        const sd = method === 'ode' ? 0 : f(f(Math.sqrt(f(s / f(1 - (s === 1 ? smax : s))))) * fa);
        const sqrtDt = f(Math.sqrt(f(-dt)));
        const k = f(f(sd * sd) / f(2 * s));
        set(r, 1 + k * dt, (1 + k * (1 - s)) * dt, 1, -s, f(sd * sqrtDt), sd);
      } else if (method === 'dance') {
        const sd = f(a * Math.sqrt(f(s - sp))); // python float: eta·math.sqrt(delta_t)
        const k = (a * a) / (2 * s);
        set(r, 1 + k * dt, dt + k * (1 - s) * dt, 1, -s, sd, sd);
      } else {
        // cps: mean = x̂0(1 − σp) + x̂1·sqrt(σp² − std²), x̂0 = x − σv, x̂1 = x + (1 − σ)v.
        const sd = f(sp * f(Math.sin((a * Math.PI) / 2)));
        const c = f(Math.sqrt(f(f(sp * sp) - f(sd * sd))));
        const w = f(1 - sp);
        set(r, w + c, -s * w + (1 - s) * c, 1, -s, sd, sd);
      }
    }
  }
  const out = options.out;
  if (out !== undefined && (out === null || typeof out !== 'object')) fail('E_VALUE', 'out', 'an object { prevSample?, prevSampleMean?, predX0? }', describe(out));
  return {
    rows, inner, total, dtype, modelOutput, sample, prevSample, noise, seed, coef, scale, std,
    gaussian: method !== 'cps', lpConst, predictX0,
    outPrev: outF32(out?.prevSample, 'out.prevSample', total),
    outMean: outF32(out?.prevSampleMean, 'out.prevSampleMean', total),
    outX0: predictX0 ? outF32(out?.predX0, 'out.predX0', total) : null,
  };
}

function checkIndex(value: unknown, row: number, steps: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value >= steps) {
    fail('E_RANGE', `stepIndex[${row}]`, `an integer step index in [0, ${steps})`, describe(value));
  }
  return value;
}

/** Finish the per-row log-prob from Σ(prev − mean)² (f64), the same for every backend. */
export function finishStep(p: StepProblem, sums: Float64Array, backend: DiffusionStepResult['backend']): DiffusionStepResult {
  const logProb = new Float32Array(p.rows);
  for (let r = 0; r < p.rows; r++) {
    const m = sums[r]! / p.inner;
    const s = p.scale[r]!;
    logProb[r] = p.gaussian ? (s > 0 ? -m / (2 * s * s) - p.lpConst[r]! : NaN) : -m;
  }
  const res: DiffusionStepResult = { prevSample: p.outPrev, prevSampleMean: p.outMean, std: p.std, scale: p.scale, logProb, backend };
  if (p.outX0) res.predX0 = p.outX0;
  return res;
}

/**
 * One sampling step with log-probability (Flow-GRPO sde_step_with_logprob, DanceGRPO flux_step,
 * DDPO ddim_step_with_logprob) on the chosen backend.
 */
export async function diffusionStep(options: DiffusionStepOptions): Promise<DiffusionStepResult> {
  const p = prepareStep(options);
  return runOp('diffusionStep', options.backend, p.total, {
    js: async () => finishStep(p, stepJs(p), 'js'),
    native: async () => finishStep(p, await stepNative(p), 'native'),
    webgpu: async () => finishStep(p, await stepWebgpu(p, options.context), 'webgpu'),
  });
}
