/**
 * Drive whole sampling trajectories: G samples for each prompt, N steps of `diffusionStep` with the
 * user's velocity model, the log-prob of every transition, rewards (final, or dense per step through
 * an ODE look-ahead), advantages, and a helper for the Flow-GRPO loss over the recorded trajectory.
 *
 * Data flow. The user's model runs on the host: each step hands it the current latents as a
 * Float32Array [B·n] and takes its velocity back. On 'js' and 'native' each step is one
 * diffusionStep call over host arrays. On 'webgpu' the latents stay in device buffers between steps:
 * per step the velocity is uploaded, the step runs on the device, and only the new latents (for the
 * next model call) and one partial sum per 1024 elements come back; x is never re-uploaded and the
 * mean never read. The look-ahead of `dense: 'ode'` steps host copies with diffusionStep.
 *
 * Rows are prompt-major: row r = p·G + g belongs to prompt p = ⌊r/G⌋.
 */
import { describe, fail, RewardkitError } from '../errors.js';
import { checkEnum, checkSize, toFloat32 } from '../tensor.js';
import { chooseBackend, type Backend } from '../backends/select.js';
import { getContext, type GpuContext } from '../backends/webgpu/context.js';
import { GpuPlan } from '../backends/webgpu/plan.js';
import { nativeStatus } from '../backends/native.js';
import { danceSigmas, fluxSigmas, sd3Sigmas, type FlowSchedule } from './schedules.js';
import { diffusionStep, finishStep, prepareStep, type DiffusionStepOptions } from './step.js';
import { gaussianNoiseNative } from './step.native.js';
import { encodeStep, rowSums, stepPartials } from './step.gpu.js';
import { gaussianNoise, mix32 } from './rng.js';
import { FlowGrpoTracker, type PromptKey } from './tracker.js';
import { denseAdvantages } from './dense.js';
import { flowGrpoLoss, type FlowGrpoLossOptions, type FlowGrpoLossResult } from './loss.js';

type Floats = Float32Array | Float64Array | number[];

/** What the velocity model is told besides the latents. */
export interface VelocityInfo {
  /** Step index i in [0, N) (the look-ahead reports the step it evaluates). */
  step: number;
  /** σ = sigmas[i] (the same for every row). */
  sigma: number;
  /** The scheduler's timestep (σ·1000 for flow schedules). */
  timestep: number;
  /** Prompt index of each row [B]. */
  promptIdx: Uint32Array;
}

export interface TrajectoryModel {
  /** The model's velocity prediction [B·n] for latents [B·n] (a view valid only during the call). */
  velocity(latents: Float32Array, info: VelocityInfo): Floats | Promise<Floats>;
}

/** Scores clean latents [rows·n] of prompts promptIdx [rows]: one reward per row. */
export type TrajectoryReward = (samples: Float32Array, promptIdx: Uint32Array) => Floats | Promise<Floats>;

export interface TrajectoryProgress {
  /** 'sample': a sampling step finished; 'lookahead': the ODE look-ahead from a step finished; 'reward': rewards scored. */
  phase: 'sample' | 'lookahead' | 'reward';
  step: number;
  of: number;
}

export interface RunTrajectoriesOptions {
  /** One key per prompt (text or id); G samples are drawn for each. */
  prompts: ArrayLike<PromptKey>;
  /** G (≥ 1). */
  samplesPerPrompt: number;
  /** N sampling steps. */
  steps: number;
  /** 'sd3' (default, shift 3), 'flux' (μ from the packed 2×2 token count of the last two axes), 'dance', or { sigmas } of N+1 values. */
  schedule?: 'sd3' | 'flux' | 'dance' | { sigmas: Float32Array | number[] };
  /** 'sde' (default), 'cps', 'ode' (deterministic; NaN log-probs) or 'dance'. */
  method?: 'sde' | 'cps' | 'ode' | 'dance';
  /** As diffusionStep's (sde/cps a = 0.7, dance η = 0.3). */
  noiseLevel?: number;
  /** Latent shape of ONE sample, e.g. [16, 64, 64]. */
  shape: readonly number[];
  model: TrajectoryModel;
  reward: TrajectoryReward;
  /**
   * Dense rewards (DenseGRPO): R[:, t] for t = 0..N scores the clean latent predicted from the state
   * before step t (t = N: the final sample). 'ode' (or true): run the ODE over the remaining steps
   * (N(N−1)/2 extra model calls); 'x0': the one-step x̂0 = x − σv (no extra model call). Default false.
   */
  dense?: boolean | 'ode' | 'x0';
  /** Keep the N+1 latent states (each [B·n]). Default false. */
  recordLatents?: boolean;
  /** Seed of the initial noise and of every step's draw (integer in [0, 2^32)); default 0. */
  seed?: number;
  backend?: Backend;
  context?: GpuContext;
  /** Flow-GRPO tracker options for the advantages (default: global std, ε = 1e-4). */
  globalStd?: boolean;
  epsilon?: number;
  onProgress?: (progress: TrajectoryProgress) => void;
}

export interface Trajectory {
  /** log π of each transition [B, N] row-major (mean over the latent elements, as diffusionStep). */
  logProbs: Float32Array;
  /** std_dev_t of each step [N] (the same for every row). */
  std: Float32Array;
  timesteps: Float32Array;
  sigmas: Float32Array;
  /** With recordLatents: the N+1 states x_0 (noise) … x_N, each [B·n]. */
  latents?: Float32Array[];
}

export interface TrajectoryResult {
  trajectory: Trajectory;
  /** Prompt index of each row [B] and its key. */
  promptIdx: Uint32Array;
  rowPrompts: PromptKey[];
  /** The final latents x_N [B·n]. */
  samples: Float32Array;
  /** Final rewards [B]. */
  rewards: Float64Array;
  /** With dense: R [B, N+1] and ΔR [B, N]. */
  stepRewards?: Float64Array;
  dense?: Float64Array;
  /** Flow-GRPO advantages: [B] (final rewards) or [B, N] (dense, per timestep). */
  advantages: Float64Array;
  /** N. */
  steps: number;
  backend: 'js' | 'native' | 'webgpu';
}

function scheduleOf(s: RunTrajectoriesOptions['schedule'], N: number, shape: readonly number[]): FlowSchedule | { sigmas: Float32Array | number[] } {
  if (s === undefined || s === 'sd3') return sd3Sigmas(N);
  if (s === 'dance') return danceSigmas(N);
  if (s === 'flux') {
    if (shape.length < 2) fail('E_SHAPE', 'shape', "at least two axes (H, W) for schedule 'flux'", describe(shape));
    return fluxSigmas(N, { imageSeqLen: (shape[shape.length - 1]! * shape[shape.length - 2]!) / 4 });
  }
  if (s === null || typeof s !== 'object' || !('sigmas' in s)) fail('E_VALUE', 'schedule', "'sd3', 'flux', 'dance' or { sigmas }", describe(s));
  if (s.sigmas?.length !== N + 1) fail('E_SHAPE', 'schedule.sigmas', `N + 1 = ${N + 1} sigmas`, describe(s.sigmas));
  return s;
}

/** The callback's result as f32 [length], finite; a throwing or rejecting callback becomes a typed error. */
async function call<T>(what: string, where: string, run: () => T | Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (err) {
    if (err instanceof RewardkitError) throw err;
    const message = err instanceof Error ? err.message : String(err);
    throw new RewardkitError('E_VALUE', `${what} failed ${where}: ${message}`, what, { cause: err });
  }
}

/** The callback's result as f32 [length] (type and length checked; finite values checked by checkFinite). */
function asResult(value: unknown, what: string, length: number): Float32Array {
  if (!(value instanceof Float32Array) && !(value instanceof Float64Array) && !Array.isArray(value)) fail('E_DTYPE', what, 'a Float32Array, Float64Array or number[]', describe(value));
  if (value.length !== length) fail('E_SHAPE', what, `length ${length}`, `length ${value.length}`);
  return toFloat32(value, what);
}

function checkFinite(a: Float32Array, what: string): Float32Array {
  for (let i = 0; i < a.length; i++) if (!Number.isFinite(a[i]!)) fail('E_VALUE', `${what}[${i}]`, 'finite values', describe(a[i]));
  return a;
}

const checkResult = (value: unknown, what: string, length: number) => checkFinite(asResult(value, what, length), what);

/**
 * Sample G trajectories per prompt with the user's model, recording log-probs (and latents), then
 * score them and compute Flow-GRPO advantages (DenseGRPO's per-timestep ones with `dense`).
 */
export async function runTrajectories(options: RunTrajectoriesOptions): Promise<TrajectoryResult> {
  if (options === null || typeof options !== 'object') fail('E_VALUE', 'options', 'an options object', describe(options));
  const prompts = options.prompts;
  if (!Array.isArray(prompts) || prompts.length < 1) fail('E_VALUE', 'prompts', 'a non-empty array of prompt keys', describe(prompts));
  prompts.forEach((k, i) => { if (typeof k !== 'string' && !(typeof k === 'number' && Number.isFinite(k))) fail('E_VALUE', `prompts[${i}]`, 'a string or finite number', describe(k)); });
  const G = checkSize(options.samplesPerPrompt, 'samplesPerPrompt', 1);
  const N = checkSize(options.steps, 'steps', 1);
  const shape = options.shape;
  if (!Array.isArray(shape) || shape.length < 1) fail('E_SHAPE', 'shape', 'the latent shape of one sample (at least one axis)', describe(shape));
  let n = 1;
  shape.forEach((d, i) => { n *= checkSize(d, `shape[${i}]`, 1); });
  const B = prompts.length * G, total = B * n;
  const method = checkEnum(options.method ?? 'sde', 'method', ['sde', 'cps', 'ode', 'dance'] as const);
  const model = options.model;
  if (model === null || typeof model !== 'object' || typeof model.velocity !== 'function') fail('E_VALUE', 'model', 'an object { velocity(latents, info) }', describe(model));
  if (typeof options.reward !== 'function') fail('E_VALUE', 'reward', 'a function (samples, promptIdx) => rewards', describe(options.reward));
  const dense = options.dense === true ? 'ode' : options.dense === false || options.dense === undefined ? null : checkEnum(options.dense, 'dense', ['ode', 'x0'] as const);
  if (options.onProgress !== undefined && typeof options.onProgress !== 'function') fail('E_VALUE', 'onProgress', 'a function', describe(options.onProgress));
  const seed = options.seed === undefined ? 0 : checkSize(options.seed, 'seed');
  if (seed > 0xffffffff) fail('E_RANGE', 'seed', 'an integer in [0, 2^32)', String(seed));
  const schedule = scheduleOf(options.schedule, N, shape);
  const sigmas = Float32Array.from(schedule.sigmas);
  const timesteps = 'timesteps' in schedule && schedule.timesteps instanceof Float32Array ? schedule.timesteps : sigmas.subarray(0, N).map((s) => s * 1000);
  const b = options.backend ?? 'auto';
  const backend = b === 'auto' ? chooseBackend('diffusionStep', total) : checkEnum(b, 'backend', ['js', 'native', 'webgpu'] as const);
  if (backend === 'native' && !nativeStatus().available) throw new RewardkitError('E_BACKEND_UNAVAILABLE', `The native backend is unavailable: ${nativeStatus().reason}`, 'backend');

  const promptIdx = new Uint32Array(B).map((_, r) => Math.floor(r / G));
  const rowPrompts = Array.from(promptIdx, (p) => prompts[p]!);
  const progress = (phase: TrajectoryProgress['phase'], step: number, of: number) => options.onProgress?.({ phase, step, of });
  const stepOptions = (i: number, m: DiffusionStepOptions['method'], sample: Float32Array, modelOutput: Float32Array): DiffusionStepOptions => ({
    method: m, schedule: { sigmas }, modelOutput, sample, shape: [B, n], stepIndex: i, seed: mix32((seed + Math.imul(i + 1, 0x9e3779b9)) >>> 0),
    ...(options.noiseLevel !== undefined && { noiseLevel: options.noiseLevel }), predictX0: dense === 'x0',
  });
  const VELOCITY = 'model.velocity() result';
  const unchecked = async (x: Float32Array, i: number, where: string) => asResult(
    await call('model.velocity', `at step ${i} of ${N}${where}`, () => model.velocity(x, { step: i, sigma: sigmas[i]!, timestep: timesteps[i]!, promptIdx })),
    VELOCITY, total);
  const velocity = async (x: Float32Array, i: number, where: string) => checkFinite(await unchecked(x, i, where), VELOCITY);
  const score = async (x: Float32Array, where: string) => checkResult(await call('reward', where, () => options.reward(x, promptIdx)), 'reward() result', B);

  // R [B, N+1] (dense) and the ODE look-ahead from state x at step j (its first velocity v already known).
  const R = dense ? new Float64Array(B * (N + 1)) : null;
  const setColumn = (j: number, r: Float32Array) => { for (let k = 0; k < B; k++) R![k * (N + 1) + j] = r[k]!; };
  const lookahead = async (x: Float32Array, v: Float32Array, j: number) => {
    let y = x, w = v;
    for (let i = j; i < N; i++) {
      if (i > j) w = await velocity(y, i, ' (ODE look-ahead)');
      y = (await diffusionStep({ ...stepOptions(i, 'ode', y, w), predictX0: false, backend })).prevSample;
    }
    setColumn(j, await score(y, `on the ODE look-ahead from step ${j}`));
    progress('lookahead', j + 1, N);
  };

  const logProbs = new Float32Array(B * N), std = new Float32Array(N);
  const latents: Float32Array[] | undefined = options.recordLatents ? [] : undefined;
  let x: Float32Array = backend === 'native' ? await gaussianNoiseNative(seed, total) : gaussianNoise(seed, total);
  latents?.push(x);
  const record = (i: number, lp: Float32Array, sd: Float32Array) => {
    for (let k = 0; k < B; k++) logProbs[k * N + i] = lp[k]!;
    std[i] = sd[0]!;
  };

  if (backend === 'webgpu') {
    const unused = new Float32Array(total); // the host outputs prepareStep wants; the device path never writes them
    x = await sampleOnDevice(options.context, B, n, N, x, async (i, xs) => {
      const v = await velocity(xs, i, '');
      if (dense === 'ode') await lookahead(xs, v, i);
      return { v, problem: prepareStep({ ...stepOptions(i, method, xs, v), out: { prevSample: unused, prevSampleMean: unused } }) };
    }, async (i, next, lp, sd, x0) => {
      record(i, lp, sd);
      if (x0) setColumn(i, await score(x0, `on x̂0 at step ${i}`));
      latents?.push(next);
      progress('sample', i + 1, N);
    });
  } else {
    // The mean is never used: one scratch buffer for every step. Unless the states are recorded, the
    // steps ping-pong between two latent buffers (the model sees each only during its call).
    const mean = new Float32Array(total);
    let spare: Float32Array | null = latents ? null : new Float32Array(total);
    for (let i = 0; i < N; i++) {
      // A non-finite velocity makes its row's log-prob non-finite (0·inf and inf − inf are NaN), so
      // the scan naming the bad index runs only then, after the step; the 'ode' look-ahead steps with
      // the velocity before that, so there it is scanned first.
      const v = dense === 'ode' ? await velocity(x, i, '') : await unchecked(x, i, '');
      if (dense === 'ode') await lookahead(x, v, i);
      const r = await diffusionStep({ ...stepOptions(i, method, x, v), backend, out: { prevSampleMean: mean, ...(spare && { prevSample: spare }) } });
      if (!r.logProb.every(Number.isFinite)) checkFinite(v, VELOCITY);
      record(i, r.logProb, r.std);
      if (r.predX0) setColumn(i, await score(r.predX0, `on x̂0 at step ${i}`));
      if (spare) spare = x;
      x = r.prevSample;
      latents?.push(x);
      progress('sample', i + 1, N);
    }
  }

  const final = await score(x, 'on the final samples');
  progress('reward', 1, 1);
  const tracker = { ...(options.globalStd !== undefined && { globalStd: options.globalStd }), ...(options.epsilon !== undefined && { epsilon: options.epsilon }) };
  const trajectory: Trajectory = { logProbs, std, timesteps, sigmas, ...(latents && { latents }) };
  const result: TrajectoryResult = {
    trajectory, promptIdx, rowPrompts, samples: x, rewards: Float64Array.from(final), advantages: new Float64Array(0), steps: N, backend,
  };
  if (R) {
    setColumn(N, final);
    const d = denseAdvantages({ prompts: rowPrompts, stepRewards: R, points: N + 1, ...tracker });
    Object.assign(result, { stepRewards: R, dense: d.dense, advantages: d.advantages });
  } else {
    result.advantages = new FlowGrpoTracker(tracker).update(rowPrompts, final);
  }
  return result;
}

type Prepare = (i: number, x: Float32Array) => Promise<{ v: Float32Array; problem: ReturnType<typeof prepareStep> }>;
type Done = (i: number, next: Float32Array, logProb: Float32Array, std: Float32Array, x0: Float32Array | null) => Promise<void>;

/**
 * The sampling loop with the latents in device buffers (ping-pong x ⇄ prev); each step uploads v and
 * reads back the new latents and the partial sums. Every buffer goes back to the pool, also on error.
 */
async function sampleOnDevice(context: GpuContext | undefined, B: number, n: number, N: number, x0: Float32Array, prepare: Prepare, done: Done): Promise<Float32Array> {
  const ctx = context ?? (await getContext());
  const U = GPUBufferUsage;
  const total = B * n;
  const nParts = stepPartials({ rows: B, inner: n }, ctx);
  const held: GPUBuffer[] = [];
  const buffer = (bytes: number) => { const g = ctx.acquire(bytes, U.STORAGE | U.COPY_SRC | U.COPY_DST); held.push(g); return g; };
  try {
    let x = buffer(total * 4), prev = buffer(total * 4);
    const mean = buffer(total * 4), partials = buffer(nParts * 4);
    let xPred: GPUBuffer | undefined;
    ctx.device.queue.writeBuffer(x, 0, x0.buffer, x0.byteOffset, x0.byteLength);
    let host = x0;
    const parts = new Float32Array(nParts);
    for (let i = 0; i < N; i++) {
      const { v, problem } = await prepare(i, host);
      if (problem.outX0) xPred ??= buffer(total * 4);
      const plan = new GpuPlan(ctx);
      const next = new Float32Array(total);
      try {
        encodeStep(plan, problem, { x, v: plan.upload(v), outPrev: prev, outMean: mean, partials, ...(xPred && { outX0: xPred }) });
        await plan.run();
        const reads: Array<[GPUBuffer, ArrayBufferView]> = [[prev, next], [partials, parts]];
        if (problem.outX0) reads.push([xPred!, problem.outX0]);
        await plan.read(reads);
      } finally {
        plan.release();
      }
      const r = finishStep(problem, rowSums(problem, parts), 'webgpu');
      [x, prev] = [prev, x];
      host = next;
      await done(i, next, r.logProb, r.std, r.predX0 ?? null);
    }
    return host;
  } finally {
    ctx.release(...held);
  }
}

/**
 * Flow-GRPO's loss over a recorded trajectory: `logProbs` [B, N] are the policy's log-probs of the
 * same transitions now (e.g. recomputed with diffusionStep's prevSample), the old ones and the
 * advantages ([B] repeated over the steps, or the dense [B, N]) come from `result`.
 */
export function trajectoryLoss(result: TrajectoryResult, logProbs: Floats, options: Omit<FlowGrpoLossOptions, 'logProb' | 'oldLogProb' | 'advantages' | 'steps'> = {}): Promise<FlowGrpoLossResult> {
  if (result === null || typeof result !== 'object' || !(result.trajectory?.logProbs instanceof Float32Array)) fail('E_VALUE', 'result', 'a runTrajectories() result', describe(result));
  return flowGrpoLoss({ ...options, logProb: logProbs, oldLogProb: result.trajectory.logProbs, advantages: result.advantages, steps: result.steps });
}
