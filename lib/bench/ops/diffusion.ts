/**
 * Benchmark cases of the diffusion family (issue 5: docs/diffusion.md, docs/diffusion-rl.md).
 *
 * Latent ops run over a batch of 24 (a Flow-GRPO group) at SD3.5 latent shapes [24, 16, s, s]
 * (s = 8 … 128: 64 px … 1024 px images) or Flux packed latents [24, s²/4, 64], which have the same
 * element count and rows (1024 px: [24, 4096, 64] = [24, 16, 128, 128] elements), so one sweep of
 * latent elements covers both. Schedules carry 10 steps (Flow-GRPO's training sampler), DanceGRPO
 * 16, DDIM 50; rows take mixed step indices 1…N−1 (σ < 1 everywhere, which the PyTorch/numpy peer's
 * plain sqrt(σ/(1−σ)) needs). The per-sample RL bookkeeping (trackers, D3PO, PRDP, DenseGRPO,
 * TTSnap, B²-DiffuRL, schedules) is JS-only and is swept over sample counts instead.
 *
 * Byte counts are what each call must read and write at the least (f32 = 4 bytes); per-row values
 * (B = 24 of them) are left out where the latents dominate.
 */
import {
  b2Select, b2TrainSteps, calibrateNoise, d3poLoss, danceGrpoAdvantages, danceGrpoLoss, danceSigmas, DdpoTracker, ddimSchedule,
  denseAdvantages, denseRewards, diffusionStep, flowGrpoLoss, FlowGrpoTracker, fluxSigmas, gaussianFlow, gaussianNoise, keptSamples,
  latentKl, paretoPrefer, prdpLoss, runTrajectories, sd3Sigmas, trajectoryLoss, ttsnapKeep, ttsnapPick, ttsnapPrune, ttsnapSchedule,
  type DiffusionStepOptions, type StepMethod,
} from '../../index.js';
import { allBackends, count, floats, hash01, logProbTriple } from '../inputs.js';
import type { BenchCase, OpBench, Preset } from '../types.js';

const ALL = allBackends;
const JS = ['js'] as const;
/** Samples per batch: one Flow-GRPO group of 24 (the issue's [24, …] targets). */
const B = 24;
/** Sampling steps of the log-prob arrays ([samples, steps]). */
const T = 10;

const fmt = count;
const sweep = (smoke: number[], small: number[], laptop = small, datacenter = laptop): Record<Preset, readonly number[]> => ({ smoke, small, laptop, datacenter });

/** Latent elements of [24, 16, s, s]. */
const latent = (s: number) => B * 16 * s * s;
/** The full sweep 64 px → 1024 px; the step variants other than 'sde' stop at 512 px on `small` (2-core budget). */
const LATENTS = sweep([latent(8)], [8, 32, 64, 128].map(latent));
const LATENTS_512 = sweep([latent(8)], [8, 32, 64].map(latent), [8, 32, 64, 128].map(latent));
/** Elements of [samples, steps] log-prob arrays: 24 × 10 (one real call) up to a bandwidth-bound 98,304 × 10. */
const LOGPROBS = sweep([B * T], [1, 256, 4096].map((k) => k * B * T), [1, 256, 4096, 32768].map((k) => k * B * T));
/** Samples (rewards): 4 prompts × 24 … 1,024 prompts × 24. */
const SAMPLES = sweep([4 * B], [4, 64, 1024].map((k) => k * B));

function sd3Shape(n: number): number[] {
  const s = Math.round(Math.sqrt(n / (B * 16)));
  return [B, 16, s, s];
}
/** Flux packs 2×2 patches of its 16-channel latent: [24, 16, s, s] → [24, s²/4, 64]. */
function fluxShape(n: number): number[] {
  return [B, n / (B * 64), 64];
}
function latentLabel(shape: number[], flux = false): string {
  const px = flux ? Math.sqrt(shape[1]!) * 16 : shape[2]! * 8;
  return `[${shape.join(',')}] (${flux ? 'Flux' : 'SD3.5'} ${px} px), ${fmt(shape.reduce((a, b) => a * b, 1))} elements`;
}

/** f32 → bf16 bits, rounded half up (the inputs are small finite values). */
function toBf16(a: Float32Array): Uint16Array {
  const u = new Uint32Array(a.buffer, a.byteOffset, a.length), out = new Uint16Array(a.length);
  for (let i = 0; i < a.length; i++) out[i] = (u[i]! + 0x8000) >>> 16;
  return out;
}

/** Mixed per-row step indices 1 … N−1. */
const stepIndices = (N: number) => Int32Array.from({ length: B }, (_, r) => 1 + (r % (N - 1)));

interface StepVariant {
  id: string;
  method: StepMethod;
  schedule: DiffusionStepOptions['schedule'];
  /** 'noise': ε given; 'seeded': drawn by the counter hash; 'prev': recompute the log-prob of a given prev_sample. */
  draw: 'noise' | 'seeded' | 'prev';
  dtype?: 'bf16';
  flux?: boolean;
  sizes: Record<Preset, readonly number[]>;
  /** Bytes per element (see each variant). */
  perElement: number;
  peer?: boolean;
}

const sd3 = sd3Sigmas(T);
const stepVariants: StepVariant[] = [
  // Read x, v, ε; write prev, mean.
  { id: 'sde', method: 'sde', schedule: sd3, draw: 'noise', sizes: LATENTS, perElement: 20, peer: true },
  // Read x, v (bf16, 2 bytes each) and ε; write prev, mean (f32).
  { id: 'sde-bf16', method: 'sde', schedule: sd3, draw: 'noise', dtype: 'bf16', sizes: LATENTS_512, perElement: 16 },
  // Read x, v; write prev, mean (ε drawn in the kernel: bound by log + cos per element on a CPU).
  { id: 'sde-seeded', method: 'sde', schedule: sd3, draw: 'seeded', sizes: LATENTS_512, perElement: 16 },
  // Read x, v, the stored prev; write prev (the returned f32 copy) and mean.
  { id: 'sde-recompute', method: 'sde', schedule: sd3, draw: 'prev', sizes: LATENTS_512, perElement: 20 },
  { id: 'cps', method: 'cps', schedule: sd3, draw: 'noise', sizes: LATENTS_512, perElement: 20 },
  // Euler: read x, v; write prev (= mean) and mean. The given ε is read anyway but is not needed at zero scale.
  { id: 'ode', method: 'ode', schedule: sd3, draw: 'noise', sizes: LATENTS_512, perElement: 16 },
  // DanceGRPO's flux_step on Flux packed latents, its 16-step schedule.
  { id: 'dance', method: 'dance', schedule: danceSigmas(16), draw: 'noise', flux: true, sizes: LATENTS_512, perElement: 20 },
  { id: 'ddim-eps', method: 'ddim', schedule: ddimSchedule(50), draw: 'noise', sizes: LATENTS_512, perElement: 20 },
  { id: 'ddim-v', method: 'ddim', schedule: ddimSchedule(50, { prediction: 'v_prediction' }), draw: 'noise', sizes: LATENTS_512, perElement: 20 },
];

function stepBench(v: StepVariant): OpBench {
  return {
    id: `diffusionStep/${v.id}`, op: 'diffusionStep', family: 'diffusion', unit: 'latent elements', backends: ALL,
    bound: 'memory', sizes: v.sizes,
    setup(n) {
      const shape = v.flux ? fluxShape(n) : sd3Shape(n);
      const sched = v.schedule as { sigmas?: Float32Array; timesteps: ArrayLike<number> };
      const stepIndex = stepIndices(sched.timesteps.length);
      const x = floats(n, 11, -2, 2), m = floats(n, 12, -2, 2);
      const options: DiffusionStepOptions = {
        method: v.method, schedule: v.schedule, shape, stepIndex,
        sample: v.dtype ? toBf16(x) : x, modelOutput: v.dtype ? toBf16(m) : m, ...(v.dtype && { dtype: v.dtype }),
        out: { prevSample: new Float32Array(n), prevSampleMean: new Float32Array(n) },
      };
      // Unit-variance ε: uniform on ±√3.
      if (v.draw === 'noise') options.noise = floats(n, 13, -Math.sqrt(3), Math.sqrt(3));
      if (v.draw === 'seeded') options.seed = 7;
      if (v.draw === 'prev') options.prevSample = floats(n, 14, -2, 2);
      const c: BenchCase = {
        label: `${latentLabel(shape, v.flux)}, ${v.dtype ?? 'f32'}`,
        bytes: v.perElement * n,
        run: (backend) => diffusionStep({ ...options, backend }),
      };
      if (v.peer) {
        // Flow-GRPO's sde_step_with_logprob on the same arrays: σ and σ' of each row's step.
        const sigmas = sched.sigmas!;
        c.peer = {
          op: 'sdeStep',
          inputs: {
            sample: x, modelOutput: m, noise: options.noise!,
            sigma: Float32Array.from(stepIndex, (i) => sigmas[i]!), sigmaPrev: Float32Array.from(stepIndex, (i) => sigmas[i + 1]!),
          },
          params: { B, D: n / B, noiseLevel: 0.7 },
        };
      }
      return c;
    },
  };
}

/** Two nearby prev_sample_mean tensors (policy vs reference) and a per-row std_dev_t. */
function latentPair(n: number) {
  const mean = floats(n, 21, -2, 2), meanRef = new Float32Array(n);
  for (let i = 0; i < n; i++) meanRef[i] = mean[i]! + 0.02 * (hash01(i, 22) - 0.5);
  return { mean, meanRef, std: floats(B, 23, 0.3, 1.2) };
}

/** Prompt keys of `n` samples in groups of `group`. */
const promptKeys = (n: number, group: number) => Array.from({ length: n }, (_, i) => `prompt ${Math.floor(i / group)}`);

/** Per-step rewards R [n, T+1] of the ODE-denoised predictions (drifting up along the trajectory). */
function stepRewards(n: number): Float64Array {
  const r = new Float64Array(n * (T + 1));
  for (let i = 0; i < r.length; i++) r[i] = (i % (T + 1)) * 0.02 + 0.3 * hash01(i, 31);
  return r;
}

const lossBenches: OpBench[] = [
  {
    id: 'latentKl', op: 'latentKl', family: 'diffusion', unit: 'latent elements', backends: ALL, bound: 'memory', sizes: LATENTS,
    setup(n) {
      const { mean, meanRef, std } = latentPair(n);
      // Read μθ and μref.
      return { label: latentLabel(sd3Shape(n)), bytes: 8 * n, run: (backend) => latentKl({ mean, meanRef, std, rows: B, backend }) };
    },
  },
  {
    // Flow-GRPO's per-step call with a reference model (β = 0.04): [24] log-probs and the step's latents.
    id: 'flowGrpoLoss/kl', op: 'flowGrpoLoss', family: 'diffusion', unit: 'latent elements', backends: ALL, bound: 'memory', sizes: LATENTS,
    setup(n) {
      const { mean, meanRef, std } = latentPair(n);
      const { logProbs, oldLogProbs } = logProbTriple(B), advantages = floats(B, 24, -3, 3);
      return {
        label: `${latentLabel(sd3Shape(n))}, β = 0.04`,
        bytes: 8 * n, // read μθ and μref (the 24 log-probs are noise beside them)
        run: (backend) => flowGrpoLoss({ logProb: logProbs, oldLogProb: oldLogProbs, advantages, beta: 0.04, prevSampleMean: mean, prevSampleMeanRef: meanRef, stdDevT: std, backend }),
      };
    },
  },
  {
    // The clipped term alone (β = 0) over [samples, 10 steps]: 24 × 10 is one real call.
    id: 'flowGrpoLoss/clip', op: 'flowGrpoLoss', family: 'diffusion', unit: 'log-probs', backends: ALL, bound: 'memory', sizes: LOGPROBS,
    setup(n) {
      const { logProbs, oldLogProbs } = logProbTriple(n), advantages = floats(n, 24, -3, 3);
      const out = { ratio: new Float32Array(n), gradLogProb: new Float32Array(n) };
      return {
        label: `${fmt(n / T)} samples × ${T} steps`,
        bytes: 20 * n, // read logp, old, A; write ratio, ∂loss/∂logp
        run: (backend) => flowGrpoLoss({ logProb: logProbs, oldLogProb: oldLogProbs, advantages, steps: T, backend, out }),
      };
    },
  },
  {
    // DanceGRPO: one advantage per sample, repeated over its steps.
    id: 'danceGrpoLoss', op: 'danceGrpoLoss', family: 'diffusion', unit: 'log-probs', backends: ALL, bound: 'memory', sizes: LOGPROBS,
    setup(n) {
      const { logProbs, oldLogProbs } = logProbTriple(n), advantages = floats(n / T, 25, -3, 3);
      const out = { ratio: new Float32Array(n), gradLogProb: new Float32Array(n) };
      return {
        label: `${fmt(n / T)} samples × ${T} steps, advantages per sample`,
        bytes: 16 * n + 4 * (n / T), // read new, old, A per sample; write ratio, ∂loss/∂logp
        run: (backend) => danceGrpoLoss({ newLogProbs: logProbs, oldLogProbs, advantages, steps: T, backend, out }),
      };
    },
  },
  {
    id: 'trajectoryLoss', op: 'trajectoryLoss', family: 'diffusion', unit: 'log-probs', backends: ALL, bound: 'memory',
    sizes: sweep([B * T], [1, 256].map((k) => k * B * T), [1, 256, 4096].map((k) => k * B * T)),
    async setup(n) {
      // A recorded DenseGRPO run (per-timestep advantages [rows, 10]) on a 4-element latent: only its log-probs matter here.
      const prompts = Array.from({ length: n / T / B }, (_, p) => p);
      const flow = gaussianFlow({ means: prompts.map((p) => ((p % 8) - 4) / 4) });
      const recorded = await runTrajectories({ prompts, samplesPerPrompt: B, steps: T, shape: [4], model: flow, reward: flow.reward, dense: 'x0', seed: 3, backend: 'js' });
      const logProbs = recorded.trajectory.logProbs.map((x, i) => x + 1e-5 * (hash01(i, 26) - 0.5));
      return {
        label: `${fmt(n / T)} samples × ${T} steps, dense advantages`,
        bytes: 20 * n, // read logp, old, A; write ratio, ∂loss/∂logp
        run: (backend) => trajectoryLoss(recorded, logProbs, { clipRange: 1e-4, backend }),
      };
    },
  },
  {
    id: 'd3poLoss', op: 'd3poLoss', family: 'diffusion', unit: 'pairs', backends: JS, bound: 'cpu', sizes: sweep([64], [64, 4096, 262144]),
    setup(n) {
      const a = logProbTriple(n), b = logProbTriple(2 * n);
      const prefer = new Float32Array(2 * n);
      for (let i = 0; i < n; i++) { const h = hash01(i, 27); if (h < 0.45) { prefer[2 * i] = 1; prefer[2 * i + 1] = -1; } else if (h < 0.9) { prefer[2 * i] = -1; prefer[2 * i + 1] = 1; } }
      const options = { logProb0: a.logProbs, refLogProb0: a.refLogProbs, logProb1: b.logProbs.subarray(n), refLogProb1: b.refLogProbs.subarray(n), prefer };
      // Read 4 log-probs and 2 preferences; write the f64 per-pair loss and two f32 gradients.
      return { label: `${fmt(n)} pairs`, bytes: 40 * n, run: () => d3poLoss(options) };
    },
  },
  {
    id: 'paretoPrefer', op: 'paretoPrefer', family: 'diffusion', unit: 'pairs', backends: JS, bound: 'cpu', sizes: sweep([64], [64, 4096, 262144]),
    setup(n) {
      const r0 = floats(3 * n, 28), r1 = floats(3 * n, 29);
      // Read two [pairs, 3] reward arrays; write [pairs, 2].
      return { label: `${fmt(n)} pairs × 3 objectives`, bytes: 32 * n, run: () => paretoPrefer(r0, r1, 3) };
    },
  },
  {
    // PRDP over every pair within each group of 24 trajectories (276 pairs a group), 10 steps.
    id: 'prdpLoss', op: 'prdpLoss', family: 'diffusion', unit: 'log-probs', backends: JS, bound: 'cpu',
    sizes: sweep([B * T], [1, 16, 256].map((k) => k * B * T)),
    setup(n) {
      const N = n / T, { logProbs, refLogProbs } = logProbTriple(n), rewards = floats(N, 30, 0, 1);
      const pairs: number[] = [];
      for (let g = 0; g < N; g += B) for (let a = g; a < g + B; a++) for (let b = a + 1; b < g + B; b++) pairs.push(a, b);
      const pairArray = Uint32Array.from(pairs), P = pairs.length / 2;
      return {
        label: `${fmt(N)} trajectories × ${T} steps, ${fmt(P)} pairs`,
        bytes: 16 * n + 4 * N + 16 * P, // read logp, ref, rewards, pairs; write the f64 gradient and per-pair loss
        run: () => prdpLoss({ logProb: logProbs, refLogProb: refLogProbs, rewards, steps: T, pairs: pairArray, beta: 1 }),
      };
    },
  },
];

const advantageBenches: OpBench[] = [
  {
    // Flow-GRPO clears its tracker every epoch: a fresh one per call.
    id: 'FlowGrpoTracker', op: 'FlowGrpoTracker', family: 'diffusion', unit: 'samples', backends: JS, bound: 'cpu', sizes: SAMPLES,
    setup(n) {
      const prompts = promptKeys(n, B), rewards = floats(n, 32, 0, 1);
      // Read f32 rewards; write f64 advantages.
      return { label: `${fmt(n / B)} prompts × ${B} samples`, bytes: 12 * n, run: () => new FlowGrpoTracker().update(prompts, rewards) };
    },
  },
  {
    // DDPO keeps each prompt's last 32 rewards across calls: one tracker, in steady state after the warm-up.
    id: 'DdpoTracker', op: 'DdpoTracker', family: 'diffusion', unit: 'samples', backends: JS, bound: 'cpu', sizes: SAMPLES,
    setup(n) {
      const prompts = promptKeys(n, 8), rewards = floats(n, 33, 0, 1);
      const tracker = new DdpoTracker({ bufferSize: 32, minCount: 16 });
      // Read rewards; write f32 advantages.
      return { label: `${fmt(n / 8)} prompts × 8 samples, buffers of 32`, bytes: 8 * n, run: () => tracker.update(prompts, rewards) };
    },
  },
  {
    id: 'danceGrpoAdvantages', op: 'danceGrpoAdvantages', family: 'diffusion', unit: 'samples', backends: JS, bound: 'memory', sizes: SAMPLES,
    setup(n) {
      const rewards = floats(n, 34, 0, 1);
      // DanceGRPO's Flux default of 12 generations a prompt. Read rewards; write advantages.
      return { label: `${fmt(n / 12)} groups of 12`, bytes: 8 * n, run: () => danceGrpoAdvantages(rewards, { groupSize: 12 }) };
    },
  },
  {
    id: 'keptSamples', op: 'keptSamples', family: 'diffusion', unit: 'samples', backends: JS, bound: 'memory', sizes: SAMPLES,
    setup(n) {
      // Advantages [n, 10] of which every fourth group of 24 is all zero (equal rewards); fill up to a multiple of 8.
      const adv = new Float64Array(n * T);
      for (let i = 0; i < adv.length; i++) if (Math.floor(i / (T * B)) % 4 !== 3) adv[i] = hash01(i, 35) - 0.5;
      let k = 0;
      const random = () => hash01(k++, 36);
      // Read f64 advantages; write one byte a sample.
      return { label: `${fmt(n)} samples × ${T} steps`, bytes: 8 * T * n + n, run: () => keptSamples(adv, T, { multipleOf: 8, random }) };
    },
  },
  {
    id: 'denseRewards', op: 'denseRewards', family: 'diffusion', unit: 'samples', backends: JS, bound: 'memory', sizes: SAMPLES,
    setup(n) {
      const R = stepRewards(n);
      // Read R [n, 11] and write ΔR [n, 10], f64.
      return { label: `${fmt(n)} samples × ${T + 1} points`, bytes: 8 * (2 * T + 1) * n, run: () => denseRewards(R, T + 1) };
    },
  },
  {
    id: 'denseAdvantages', op: 'denseAdvantages', family: 'diffusion', unit: 'samples', backends: JS, bound: 'cpu', sizes: SAMPLES,
    setup(n) {
      const prompts = promptKeys(n, B), R = stepRewards(n);
      // Read R [n, 11]; write ΔR and the advantages [n, 10], f64.
      return { label: `${fmt(n / B)} prompts × ${B} samples × ${T} steps`, bytes: 8 * (3 * T + 1) * n, run: () => denseAdvantages({ prompts, stepRewards: R, points: T + 1 }) };
    },
  },
  {
    // 5 calibration rounds; the user's rollout is replaced by a stored ΔR batch (the loop's own work only).
    id: 'calibrateNoise', op: 'calibrateNoise', family: 'diffusion', unit: 'samples', backends: JS, bound: 'memory', sizes: SAMPLES,
    setup(n) {
      const dense = denseRewards(stepRewards(n), T + 1), initial = new Float64Array(T).fill(0.7);
      // Read ΔR [n, 10] (f64) each round.
      return { label: `${fmt(n)} samples × ${T} steps, 5 rounds`, bytes: 5 * 8 * T * n, run: () => calibrateNoise({ initial, iterations: 5, sample: () => dense }) };
    },
  },
];

const candidates = sweep([16], [16, 1024, 65536]);
const selectionBenches: OpBench[] = [
  {
    id: 'ttsnapKeep', op: 'ttsnapKeep', family: 'diffusion', unit: 'candidates', backends: JS, bound: 'cpu', sizes: sweep([16], [16]),
    setup: (n) => ({ label: `${n} candidates, α = 0.4`, bytes: 0 /* scalars */, run: () => ttsnapKeep(n, 0.4) }),
  },
  {
    id: 'ttsnapSchedule', op: 'ttsnapSchedule', family: 'diffusion', unit: 'candidates', backends: JS, bound: 'cpu', sizes: sweep([16], [16]),
    setup: (n) => ({
      label: `${n} candidates, 20 steps, prune at 2, 6, 11`, bytes: 0, // a few scalars
      run: () => ttsnapSchedule({ candidates: n, steps: 20, pruneSteps: [2, 6, 11], keep: [0.4, 0.4, 0.5] }),
    }),
  },
  {
    id: 'ttsnapPrune', op: 'ttsnapPrune', family: 'diffusion', unit: 'candidates', backends: JS, bound: 'cpu', sizes: candidates,
    setup(n) {
      const scores = floats(n, 37, -1, 1);
      // Read the scores; write the 40% survivors' indices.
      return { label: `${fmt(n)} candidates, α = 0.4`, bytes: 4 * n + 4 * ttsnapKeep(n, 0.4), run: () => ttsnapPrune(scores, 0.4) };
    },
  },
  {
    id: 'ttsnapPick', op: 'ttsnapPick', family: 'diffusion', unit: 'candidates', backends: JS, bound: 'memory', sizes: candidates,
    setup(n) {
      const scores = floats(n, 38, -1, 1);
      return { label: `${fmt(n)} candidates`, bytes: 4 * n /* read the scores */, run: () => ttsnapPick(scores) };
    },
  },
  {
    id: 'b2Select', op: 'b2Select', family: 'diffusion', unit: 'candidates', backends: JS, bound: 'cpu', sizes: sweep([40], [40, 5120, 327680]),
    setup(n) {
      const scores = floats(n, 39, -1.5, 1.5);
      return { label: `${fmt(n / 5)} families of 5`, bytes: 4 * n /* read the scores; a few indices written */, run: () => b2Select({ scores }) };
    },
  },
  {
    id: 'b2TrainSteps', op: 'b2TrainSteps', family: 'diffusion', unit: 'steps', backends: JS, bound: 'cpu', sizes: sweep([T], [T]),
    setup: (n) => ({ label: `split at 3 of ${n} steps`, bytes: 0 /* scalars in, a short list out */, run: () => b2TrainSteps(3, n) }),
  },
];

const STEPS = sweep([T], [T, 50]);
const scheduleBenches: OpBench[] = [
  // Tables written: sigmas [N+1] and timesteps [N], f32.
  { id: 'sd3Sigmas', op: 'sd3Sigmas', fn: (n: number) => sd3Sigmas(n) },
  { id: 'fluxSigmas', op: 'fluxSigmas', fn: (n: number) => fluxSigmas(n, { imageSeqLen: 4096 }) },
  { id: 'danceSigmas', op: 'danceSigmas', fn: (n: number) => danceSigmas(n) },
].map(({ id, op, fn }): OpBench => ({
  id, op, family: 'diffusion', unit: 'steps', backends: JS, bound: 'cpu', sizes: STEPS,
  setup: (n) => ({ label: `${n} steps`, bytes: 4 * (2 * n + 1), run: () => fn(n) }),
}));
scheduleBenches.push({
  id: 'ddimSchedule', op: 'ddimSchedule', family: 'diffusion', unit: 'steps', backends: JS, bound: 'cpu', sizes: STEPS,
  // ᾱ over the 1,000 training steps and N timesteps written (β computed on the way).
  setup: (n) => ({ label: `${n} of 1,000 steps (SD1.5)`, bytes: 4 * (1000 + n), run: () => ddimSchedule(n) }),
});

const noiseBench: OpBench = {
  id: 'gaussianNoise', op: 'gaussianNoise', family: 'diffusion', unit: 'draws', backends: JS, bound: 'cpu',
  sizes: sweep([latent(8)], [8, 32, 64].map(latent)),
  setup: (n) => ({ label: `${fmt(n)} draws`, bytes: 4 * n /* write ε */, run: () => gaussianNoise(7, n) }),
};

/** The whole loop on the analytic flow: 8 prompts × 3 samples, 10 SDE steps, the seeded generator. */
function trajectoryBench(dense: boolean): OpBench {
  return {
    id: dense ? 'runTrajectories/dense-x0' : 'runTrajectories', op: 'runTrajectories', family: 'diffusion', unit: 'latent elements',
    backends: ALL, bound: 'cpu',
    // The JS model and reward run on the host every step: the 2-core `small` stops at 128 px.
    sizes: sweep([latent(4)], [8, 16].map(latent), [8, 32, 64].map(latent), [8, 32, 64, 128].map(latent)),
    setup(n) {
      const shape = sd3Shape(n).slice(1), prompts = Array.from({ length: 8 }, (_, p) => `prompt ${p}`);
      const flow = gaussianFlow({ means: prompts.map((_, p) => (p - 4) / 4), std: 0.5 });
      return {
        label: `${latentLabel(sd3Shape(n))}, ${T} SDE steps${dense ? ', dense x̂0 rewards' : ''}`,
        // The steps' own traffic: the initial noise, then per step read x, v and write prev, mean;
        // the model and the reward (user code, run in JS on the host) are not counted.
        bytes: (4 + T * 16) * n,
        run: (backend) => runTrajectories({ prompts, samplesPerPrompt: 3, steps: T, shape, model: flow, reward: flow.reward, seed: 1, backend, ...(dense && { dense: 'x0' as const }) }),
      };
    },
  };
}

/**
 * Every diffusion op of lib/index.ts except helpers timed inside others: fluxMu (a scalar inside
 * fluxSigmas), roundHalfEven (inside ttsnapKeep), prepareStep / finishStep / stepJs (the validation,
 * finishing and JS backend of diffusionStep, which its 'js' runs time) and gaussianFlow (a model
 * factory: its velocity and reward run inside the runTrajectories cases).
 */
export const diffusionOps: OpBench[] = [
  ...stepVariants.map(stepBench),
  ...lossBenches,
  ...advantageBenches,
  ...selectionBenches,
  ...scheduleBenches,
  noiseBench,
  trajectoryBench(false),
  trajectoryBench(true),
];
