/**
 * Diffusion schedules and steps (SPEC.md §3.1–3.2).
 *
 * Tolerances and why:
 * - Schedules: bit-for-bit (===) against SPEC's table and every conformance `schedule` (σ, timesteps, ᾱ).
 * - JS reference vs the conformance outputs (rel 1e-5, abs 2e-6): the reference's per-element f32
 *   ops are grouped differently from our f32 per-row coefficients (mean = ax·x + av·v), a few f32 ulps
 *   of values |x| ≲ 4 (measured ≤ 4.8e-7); its log-prob is an f32 mean, ours an f64 one (≤ 5e-7).
 * - native vs js: bit for bit (mean, prev, x̂0, the drawn noise): both evaluate every element in f64
 *   from the same f32 values and round once to f32, and native/diffusion_lanes.inc replays V8's fdlibm
 *   log and cos; log-prob rel 2.4e-7 (2 f32 ulps): only the order of the f64 row sums differs.
 * - webgpu vs js (mean, prev, x̂0: rel 1e-5, abs 1e-5): f32 math with the same f32 coefficients;
 *   only the rounding of ax·x + av·v differs (one f32 rounding in JS, up to three in f32, and FMA
 *   contraction), on values scaled by at most |ax| ≈ 15 (DDIM at t = 999). Drawn noise: the uniforms
 *   are bit-identical, log/cos differ by f32 ulps (|z| ≤ 5.8), within the same bound.
 * - webgpu log-prob (rel 1e-4, abs 1e-4): Σ(prev − mean)² over f32 differences, divided by 2s²; a
 *   1-ulp change of the mean moves each term by ~z·ulp/s, and s is as small as 0.03 (DDIM's last
 *   step). WebGPU sums blocks of 1024 in f32 (tree), relative error ≲ 1e-6 on the sums.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fc from 'fast-check';
import {
  createContext, danceSigmas, ddimSchedule, diffusionStep, disposeDefaultContext, fluxSigmas, gpuStatus, nativeStatus, RewardkitError,
  sd3Sigmas, type DiffusionStepOptions, type GpuContext, type LatentDtype,
} from '../lib/index.js';
import { prepareStep } from '../lib/diffusion/step.js';
import { gaussianAt, gaussianNoise, mix32, noiseKeys } from '../lib/diffusion/rng.js';
import { gaussianNoiseNative } from '../lib/diffusion/step.native.js';
import { loadNative } from '../lib/backends/native.js';
import { fixture, gauss, isCI, mismatch, rng } from './helpers.js';

const f32 = (a: Array<number | string>) => Float32Array.from(a.map(Number));
const files = ['flowgrpo_sde_00_sd3_n10_first', 'flowgrpo_sde_04_sd3_n40_b8', 'flowgrpo_sde_08_sd3_nl05_b1', 'flowgrpo_sde_12_flux_packed_sample',
  'flowgrpo_cps_00_mid', 'flowgrpo_solver_00_flow_grpo_step', 'dancegrpo_flux_02_last', 'ddpo_ddim_03_sample', 'ddpo_ddim_07_trailing_vpred'];

/** The schedule a conformance case stepped with, rebuilt by our schedule functions. */
function scheduleOf(c: any): any {
  const s = c.schedule;
  if (s.kind === 'ddim') {
    const k = s.scheduler_config;
    return ddimSchedule(s.num_inference_steps, { stepsOffset: k.steps_offset, spacing: k.timestep_spacing ?? 'leading', prediction: k.prediction_type, setAlphaToOne: k.set_alpha_to_one });
  }
  if (String(s.kind).startsWith('sd3.5')) return sd3Sigmas(s.num_inference_steps, s.scheduler_config.shift);
  if (String(s.kind).startsWith('flux')) return fluxSigmas(s.num_inference_steps, { imageSeqLen: s.image_seq_len_for_mu });
  return danceSigmas(s.num_inference_steps);
}

const same = (got: ArrayLike<number>, want: ArrayLike<number>) => {
  assert.is(got.length, want.length);
  for (let i = 0; i < want.length; i++) if (!Object.is(got[i], want[i])) assert.unreachable(`[${i}] ${got[i]} !== ${want[i]}`);
};

test('SD3 sigmas: SPEC table (N=10) bit for bit', () => {
  const want = [1, 0.960129, 0.913349, 0.857692, 0.790368, 0.707278, 0.602151, 0.464876, 0.278049, 0.008929, 0];
  const s = sd3Sigmas(10);
  assert.is(s.sigmas.length, 11);
  want.forEach((w, i) => assert.ok(Math.abs(s.sigmas[i]! - w) < 6e-7, `σ[${i}] ${s.sigmas[i]} vs ${w}`));
});

test('schedules: every conformance table bit for bit (σ, timesteps, ᾱ)', () => {
  for (const name of files) {
    const c = fixture(`conformance/diffusion/${name}.json`);
    const got = scheduleOf(c);
    if (c.schedule.kind === 'ddim') {
      same(got.alphasCumprod, f32(c.schedule.alphas_cumprod.data));
      same(Array.from(got.timesteps), c.schedule.timesteps.data);
      assert.is(got.finalAlphaCumprod, f32(c.schedule.final_alpha_cumprod.data)[0]);
    } else {
      same(got.sigmas, f32(c.schedule.sigmas.data));
      if (c.schedule.timesteps) same(got.timesteps.subarray(0, c.schedule.timesteps.data.length), f32(c.schedule.timesteps.data));
    }
  }
});

test('schedules: spacings, Flux μ, errors', () => {
  assert.equal(Array.from(ddimSchedule(50).timesteps.slice(0, 3)), [981, 961, 941]);
  assert.is(ddimSchedule(50).timesteps[49], 1);
  assert.equal(Array.from(ddimSchedule(10, { spacing: 'trailing', stepsOffset: 0 }).timesteps), [999, 899, 799, 699, 599, 499, 399, 299, 199, 99]);
  assert.equal(Array.from(ddimSchedule(5, { spacing: 'linspace' }).timesteps), [999, 749, 500, 250, 0]);
  assert.is(fluxSigmas(1, { mu: 0.63 }).sigmas.length, 2);
  assert.is(danceSigmas(4).sigmas[4], 0);
  for (const bad of [() => sd3Sigmas(0), () => fluxSigmas(4), () => ddimSchedule(2000), () => ddimSchedule(10, { spacing: 'x' as never })]) {
    try { bad(); assert.unreachable('no error'); } catch (e) { assert.instance(e, RewardkitError); }
  }
});

/** The diffusionStep options reproducing a conformance case. */
function caseOptions(c: any): DiffusionStepOptions {
  const P = c.params, I = c.inputs;
  const method = c.schedule.kind === 'ddim' ? 'ddim' : c.function === 'flux_step' ? 'dance' : c.function === 'flow_grpo_step' ? 'sde' : P.sde_type;
  return {
    method, schedule: scheduleOf(c), shape: I.model_output.shape, stepIndex: P.step_index ?? P.index,
    noiseLevel: P.noise_level ?? P.eta, modelOutput: f32(I.model_output.data), sample: f32((I.sample ?? I.latents).data),
    prevSample: I.prev_sample ? f32(I.prev_sample.data) : undefined,
    noise: c.aux?.variance_noise ? f32(c.aux.variance_noise.data) : undefined, predictX0: true,
  };
}

async function conformance(backend: 'js' | 'native' | 'webgpu', rel = 1e-5, abs = 2e-6, lpTol = 2e-6): Promise<void> {
  for (const name of files) {
    const c = fixture(`conformance/diffusion/${name}.json`), O = c.outputs;
    const r = await diffusionStep({ ...caseOptions(c), backend });
    const check = (what: string, got: ArrayLike<number>, want: any, r2 = rel, a2 = abs) => {
      const m = mismatch(got, f32(want.data), r2, a2);
      assert.is(m, '', `${name} ${what}: ${m}`);
    };
    check('prev_sample', r.prevSample, O.prev_sample);
    check('log_prob', r.logProb, O.log_prob, lpTol, lpTol);
    if (O.prev_sample_mean) check('prev_sample_mean', r.prevSampleMean, O.prev_sample_mean);
    if (O.std_dev_t) check('std_dev_t', r.std, O.std_dev_t, 0, 0);
    if (O.sqrt_dt && c.params.sde_type === 'sde') check('std·sqrt_dt', r.scale, { data: O.std_dev_t.data.map((s: number, i: number) => Math.fround(s * O.sqrt_dt.data[i])) }, 0, 0);
    if (O.pred_original_sample) check('pred_original_sample', r.predX0!, O.pred_original_sample);
  }
}

test('js reference: every step conformance case (Flow-GRPO sde/cps/solver, DanceGRPO, DDPO DDIM)', () => conformance('js'));

test('a = 0 / ODE: prev = mean = x + dt·v, log-prob NaN; cps a = 0 → 0', async () => {
  const x = Float32Array.from([1, 2, 3, 4]), v = Float32Array.from([0.5, -1, 2, 0]);
  const schedule = sd3Sigmas(4);
  const r = await diffusionStep({ method: 'ode', schedule, modelOutput: v, sample: x, shape: [2, 2], stepIndex: [0, 3], predictX0: true, backend: 'js' });
  const s = schedule.sigmas;
  const want = [0, 1, 2, 3].map((e) => Math.fround(x[e]! + (s[e < 2 ? 1 : 4]! - s[e < 2 ? 0 : 3]!) * v[e]!));
  assert.is(mismatch(r.prevSample, want, 1e-6, 1e-6), '');
  same(r.prevSample, r.prevSampleMean);
  assert.ok(Number.isNaN(r.logProb[0]) && Number.isNaN(r.logProb[1]));
  const z = await diffusionStep({ method: 'sde', noiseLevel: 0, schedule, modelOutput: v, sample: x, shape: [2, 2], stepIndex: [0, 3], backend: 'js' });
  same(z.prevSample, r.prevSample);
  const c = await diffusionStep({ method: 'cps', noiseLevel: 0, schedule, modelOutput: v, sample: x, shape: [2, 2], stepIndex: [0, 3], backend: 'js' });
  assert.equal(Array.from(c.logProb), [0, 0]);
});

test('given prevSample reproduces the sampled log-prob; the generator is the documented hash', async () => {
  const r = rng(5);
  const n = 3 * 40;
  const x = Float32Array.from({ length: n }, () => gauss(r)), v = Float32Array.from({ length: n }, () => gauss(r));
  const base = { schedule: sd3Sigmas(10), modelOutput: v, sample: x, shape: [3, 5, 8] as number[], stepIndex: [0, 4, 9], backend: "js" as const };
  const a = await diffusionStep({ ...base, seed: 77 });
  const b = await diffusionStep({ ...base, prevSample: a.prevSample });
  same(b.logProb, a.logProb);
  const c = await diffusionStep({ ...base, noise: gaussianNoise(77, n) });
  same(c.prevSample, a.prevSample);
  // Draws: mean ≈ 0, variance ≈ 1 over 200k elements; uniforms from the hash.
  const z = gaussianNoise(3, 200_000);
  let m = 0, q = 0;
  for (const t of z) { m += t; q += t * t; }
  m /= z.length; q = q / z.length - m * m;
  assert.ok(Math.abs(m) < 0.01 && Math.abs(q - 1) < 0.01, `mean ${m} var ${q}`);
  const [k0, k1] = noiseKeys(3);
  assert.is(gaussianAt(k0, k1, 12345), z[12345]);
});

test('typed errors name the argument', async () => {
  const x = new Float32Array(8);
  const ok: DiffusionStepOptions = { schedule: sd3Sigmas(4), modelOutput: x, sample: x, shape: [2, 4], stepIndex: 0, backend: 'js' };
  const cases: Array<[Partial<DiffusionStepOptions> | Record<string, unknown>, string]> = [
    [{ method: 'euler' as never }, 'method'],
    [{ shape: [3, 4] }, 'modelOutput'],
    [{ shape: [] }, 'shape'],
    [{ stepIndex: 4 }, 'stepIndex[0]'],
    [{ stepIndex: [0] }, 'stepIndex'],
    [{ stepIndex: -1 }, 'stepIndex[0]'],
    [{ sample: new Float64Array(8) as never }, 'sample'],
    [{ modelOutput: new Uint16Array(8) }, 'dtype'],
    [{ dtype: 'bf16' }, 'modelOutput'],
    [{ dtype: 'f16', modelOutput: new Uint16Array(8), sample: new Uint16Array(8), prevSample: x }, 'prevSample'],
    [{ dtype: 'f16', modelOutput: new Uint16Array(8), sample: x }, 'sample'],
    [{ noise: new Float32Array(3) }, 'noise'],
    [{ noise: new Float32Array(8), prevSample: x }, 'noise'],
    [{ noiseLevel: -1 }, 'noiseLevel'],
    [{ noiseLevel: NaN }, 'noiseLevel'],
    [{ seed: 2 ** 33 }, 'seed'],
    [{ schedule: ddimSchedule(10) }, 'schedule'],
    [{ method: 'ddim' }, 'schedule'],
    [{ schedule: { sigmas: [1, 1.5] } }, 'schedule.sigmas[1]'],
    [{ schedule: { sigmas: [0.5, 0.7] } }, 'schedule.sigmas'],
    [{ out: { prevSample: new Float32Array(2) } }, 'out.prevSample'],
    [{ backend: 'cuda' as never }, 'backend'],
  ];
  for (const [patch, argument] of cases) {
    try {
      await diffusionStep({ ...ok, ...patch } as DiffusionStepOptions);
      assert.unreachable(`no error for ${argument}`);
    } catch (e) {
      assert.instance(e, RewardkitError, String(e));
      assert.is((e as RewardkitError).argument, argument, (e as Error).message);
    }
  }
});

// ---------------------------------------------------------------- native and WebGPU vs JS

function toHalf(x: number, dtype: LatentDtype): number {
  const b = new Uint32Array(new Float32Array([x]).buffer)[0]!;
  if (dtype === 'bf16') return (b + 0x7fff + ((b >> 16) & 1)) >>> 16; // round to nearest even
  const s = (b >>> 16) & 0x8000, e = ((b >>> 23) & 255) - 112, m = b & 0x7fffff;
  if (e <= 0) return s; // our values are never subnormal in f16
  return s | Math.min(0x7bff, (e << 10) + Math.round(m / 8192)); // a mantissa carry rolls into the exponent
}

interface Spec { method: DiffusionStepOptions['method']; shape: number[]; dtype: LatentDtype; given: 'noise' | 'seed' | 'prev'; steps: number; mixed: boolean; noiseLevel?: number; sched?: 'sd3' | 'flux' | 'dance' | 'ddim' | 'ddimv' }

function makeStep(spec: Spec, seed: number): DiffusionStepOptions {
  const r = rng(seed);
  const n = spec.shape.reduce((a, b) => a * b, 1), B = spec.shape[0]!;
  const data = () => {
    const a = Float32Array.from({ length: n }, () => gauss(r));
    return spec.dtype === 'f32' ? a : Uint16Array.from(a, (x) => toHalf(x, spec.dtype));
  };
  const sched = spec.sched ?? (spec.method === 'ddim' ? 'ddim' : spec.method === 'dance' ? 'dance' : 'sd3');
  const schedule = sched === 'ddim' ? ddimSchedule(spec.steps) : sched === 'ddimv' ? ddimSchedule(spec.steps, { prediction: 'v_prediction', spacing: 'trailing', stepsOffset: 0 })
    : sched === 'flux' ? fluxSigmas(spec.steps, { imageSeqLen: 1024 }) : sched === 'dance' ? danceSigmas(spec.steps) : sd3Sigmas(spec.steps);
  // First step, last step, and (mixed) a spread over the schedule.
  const stepIndex = Array.from({ length: B }, (_, i) => (spec.mixed ? (i * 7) % spec.steps : i % 2 ? spec.steps - 1 : 0));
  const o: DiffusionStepOptions = { method: spec.method, schedule, modelOutput: data(), sample: data(), shape: spec.shape, dtype: spec.dtype, stepIndex, predictX0: true, seed: seed * 977 };
  if (spec.noiseLevel !== undefined) o.noiseLevel = spec.noiseLevel;
  if (spec.given === 'noise') o.noise = Float32Array.from({ length: n }, () => gauss(r));
  if (spec.given === 'prev') o.prevSample = data();
  return o;
}

const specs: Spec[] = [
  { method: 'sde', shape: [1, 1], dtype: 'f32', given: 'seed', steps: 1, mixed: false },
  { method: 'sde', shape: [4, 4, 8, 8], dtype: 'f32', given: 'noise', steps: 10, mixed: false },
  { method: 'sde', shape: [5, 3, 7, 9], dtype: 'bf16', given: 'seed', steps: 10, mixed: true },
  { method: 'sde', shape: [3, 2, 3, 5, 7], dtype: 'f16', given: 'prev', steps: 40, mixed: true },
  { method: 'sde', shape: [2, 16, 32], dtype: 'f32', given: 'seed', steps: 6, mixed: true, sched: 'flux', noiseLevel: 0.9 },
  { method: 'sde', shape: [3, 100], dtype: 'f32', given: 'noise', steps: 10, mixed: true, noiseLevel: 0 },
  { method: 'cps', shape: [4, 4, 8, 8], dtype: 'bf16', given: 'noise', steps: 10, mixed: true },
  { method: 'cps', shape: [2, 3, 5], dtype: 'f32', given: 'prev', steps: 10, mixed: false, noiseLevel: 0 },
  { method: 'ode', shape: [3, 2, 4, 4], dtype: 'f16', given: 'seed', steps: 10, mixed: true },
  { method: 'dance', shape: [4, 25, 64], dtype: 'f32', given: 'seed', steps: 16, mixed: true },
  { method: 'dance', shape: [2, 8, 8], dtype: 'bf16', given: 'prev', steps: 1, mixed: false },
  { method: 'ddim', shape: [4, 4, 8, 8], dtype: 'f32', given: 'seed', steps: 50, mixed: true },
  { method: 'ddim', shape: [2, 4, 8, 8], dtype: 'f16', given: 'prev', steps: 10, mixed: false, sched: 'ddimv' },
  { method: 'ddim', shape: [3, 4, 16, 16], dtype: 'bf16', given: 'noise', steps: 1, mixed: false },
  { method: 'sde', shape: [3, 3000], dtype: 'f32', given: 'seed', steps: 10, mixed: true },
  { method: 'sde', shape: [2, 16, 40, 40], dtype: 'bf16', given: 'noise', steps: 10, mixed: true },
];

/** Bit-for-bit equality with the first difference named (NaN equals NaN). */
const sameBits = (got: ArrayLike<number>, want: ArrayLike<number>, label: string) => {
  assert.is(got.length, want.length, label);
  for (let i = 0; i < want.length; i++) if (!Object.is(got[i], want[i])) assert.unreachable(`${label} [${i}] ${got[i]} !== ${want[i]}`);
};

async function agreeStep(o: DiffusionStepOptions, backend: 'native' | 'webgpu', label: string, context?: GpuContext): Promise<void> {
  const ref = await diffusionStep({ ...o, backend: 'js' });
  const got = await diffusionStep({ ...o, backend, context });
  assert.is(got.backend, backend);
  for (const k of ['prevSample', 'prevSampleMean', 'predX0'] as const) {
    if (backend === 'native') sameBits(got[k]!, ref[k]!, `${label} ${k}`);
    else assert.is(mismatch(got[k]!, ref[k]!, 1e-5, 1e-5), '', `${label} ${k}`);
  }
  same(got.std, ref.std);
  const m = backend === 'native' ? mismatch(got.logProb, ref.logProb, 2.4e-7, 0) : mismatch(got.logProb, ref.logProb, 1e-4, 1e-4);
  assert.is(m, '', `${label} logProb: ${m}`);
}

function backendSuite(backend: 'native' | 'webgpu', available: boolean, reason: string, extra: () => GpuContext | undefined = () => undefined, big: number[] = []) {
  if (!available) {
    if (isCI) test(`${backend} available in CI`, () => assert.unreachable(reason));
    else test.skip(`${backend} (unavailable: ${reason})`, () => {});
    return;
  }
  test(`${backend}: conformance cases`, async () => {
    await conformance(backend, 1e-5, 2e-6, 2e-6);
  });
  test(`${backend} vs js: methods, dtypes, ranks 2-5, first/last/mixed steps, given/drawn noise`, async () => {
    for (const [i, spec] of specs.entries()) await agreeStep(makeStep(spec, i + 1), backend, `${backend} ${JSON.stringify(spec)}`, extra());
  });
  if (big.length) test(`${backend} vs js: large [${big}]`, async () => {
    await agreeStep(makeStep({ method: 'sde', shape: big, dtype: 'bf16', given: 'seed', steps: 10, mixed: true }, 99), backend, 'large', extra());
  });
}

const nat = nativeStatus();
backendSuite('native', nat.available, nat.available ? '' : nat.reason, undefined, [20, 16, 64, 64]);

if (nat.available) {
  test('native vs js bit for bit: row lengths around the 8-lane groups and the 16,384-element blocks', async () => {
    const shapes = [[1, 1], [3, 7], [2, 9], [5, 17], [4, 8], [3, 10007], [5000, 7], [2, 16385], [1, 40000], [7, 3, 777]];
    for (const [i, shape] of shapes.entries()) {
      for (const given of ['noise', 'seed', 'prev'] as const) {
        const spec: Spec = { method: 'sde', shape, dtype: i % 3 === 0 ? 'f32' : i % 3 === 1 ? 'bf16' : 'f16', given, steps: 10, mixed: true };
        await agreeStep(makeStep(spec, 200 + i), 'native', `native ${JSON.stringify(spec)}`);
      }
    }
  });

  /** Steps over f16/bf16 NaN, ±inf, ±0, subnormals and the largest values (rows of 16 and 21: vector groups and tails). */
  function specialSteps(): DiffusionStepOptions[] {
    const f16 = [0x7e00, 0x7c01, 0x7c00, 0xfc00, 0x0000, 0x8000, 0x0001, 0x8001, 0x03ff, 0x0400, 0x7bff, 0xfbff, 0x3c00, 0x3555, 0xbc01, 0x4248];
    const bf16 = [0x7fc0, 0x7f81, 0x7f80, 0xff80, 0x0000, 0x8000, 0x0001, 0x807f, 0x0080, 0x7f7f, 0xff7f, 0x3f80, 0x3eab, 0xbf81, 0x4049, 0x3c00];
    const out: DiffusionStepOptions[] = [];
    for (const [dtype, bits] of [['f16', f16], ['bf16', bf16]] as const) {
      for (const inner of [bits.length, bits.length + 5]) {
        const n = 3 * inner;
        const sample = Uint16Array.from({ length: n }, (_, i) => bits[i % bits.length]!);
        const modelOutput = Uint16Array.from({ length: n }, (_, i) => bits[(i * 7 + 3) % bits.length]!);
        for (const method of ['sde', 'ddim'] as const) {
          const o: DiffusionStepOptions = {
            method, schedule: method === 'ddim' ? ddimSchedule(10) : sd3Sigmas(10), modelOutput, sample, shape: [3, inner], dtype,
            stepIndex: [0, 4, 9], predictX0: true, seed: 5,
          };
          out.push(o, { ...o, seed: undefined, prevSample: modelOutput });
        }
      }
    }
    return out;
  }

  test('native vs js bit for bit: f16/bf16 NaN, ±inf, ±0, subnormals and the largest values', async () => {
    for (const [i, o] of specialSteps().entries()) await agreeStep(o, 'native', `${o.dtype} ${o.method} special values ${i}`);
  });

  test('native generator = rng.ts gaussianNoise bit for bit, including the rare fdlibm branches', async () => {
    sameBits(await gaussianNoiseNative(123, 1 << 20, 987654321), gaussianNoise(123, 1 << 20, 987654321), '2^20 draws');
    sameBits(await gaussianNoiseNative(4, 1000, 2 ** 32 - 1000), gaussianNoise(4, 1000, 2 ** 32 - 1000), 'the last indices');
    sameBits(await gaussianNoiseNative(4, 13), gaussianNoise(4, 13), 'fewer than one vector');
    // Elements of seed 11 whose uniforms hit fdlibm's rare paths (found by search): u2 = k·2^-24 giving
    // t = 2u2 − 1 = −1, −1 + 2^-23 (cos near π: more reduction rounds), ±1/2 and ±(1/2 + 2^-23) (near
    // π/2), 1 − 2^-23; u1 = (k + 1)·2^-24 = 1, 2^-24, powers of two and their neighbours (log's |f| < 2^-20).
    const [k0, k1] = noiseKeys(11);
    const u2At: Array<[number, number]> = [[21849394, 0], [5702700, 1], [5690625, 2 ** 22 - 1], [11940451, 2 ** 22], [6266240, 3 * 2 ** 22], [4021027, 3 * 2 ** 22 + 1], [35343596, 2 ** 24 - 1]];
    const u1At: Array<[number, number]> = [[452904, 2 ** 24 - 1], [30511383, 0], [6381176, 1], [24567209, 3], [20916082, 2 ** 23 - 1], [9529017, 2 ** 20 - 1], [40811082, 2 ** 23]];
    for (const [e, k] of u2At) assert.is(mix32((mix32((e + k1) >>> 0) ^ k0) >>> 0) >>> 8, k, `u2 at ${e}`);
    for (const [e, k] of u1At) assert.is(mix32((mix32((e + k0) >>> 0) ^ k1) >>> 0) >>> 8, k, `u1 at ${e}`);
    for (const [e] of [...u2At, ...u1At]) {
      for (const start of [e - 15, e - 8, e - 3, e]) sameBits(await gaussianNoiseNative(11, 16, start), gaussianNoise(11, 16, start), `around ${e}`);
      assert.is((await gaussianNoiseNative(11, 1, e))[0], gaussianAt(k0, k1, e));
    }
  });

  test('native: the 4-lane baseline kernels (machines without AVX-512) give the same bits as the default pick', async () => {
    const addon = loadNative() as unknown as Record<string, (a: object) => Promise<unknown>>;
    const extra: Spec[] = [{ method: 'sde', shape: [3, 10007], dtype: 'f16', given: 'seed', steps: 10, mixed: true }, { method: 'cps', shape: [5000, 7], dtype: 'f32', given: 'noise', steps: 10, mixed: true }];
    const options = [...[...specs, ...extra].map((spec, i) => makeStep(spec, 300 + i)), ...specialSteps()];
    for (const [i, o] of options.entries()) {
      const p = prepareStep(o);
      const [k0, k1] = noiseKeys(p.seed);
      const run = async (baseline: boolean) => {
        const out = { outPrev: new Float32Array(p.total), outMean: new Float32Array(p.total), outX0: new Float32Array(p.total), sums: new Float64Array(p.rows) };
        await addon['diffusionStep']!({
          rows: p.rows, inner: p.inner, dtype: { f32: 0, f16: 1, bf16: 2 }[p.dtype], modelOutput: p.modelOutput, sample: p.sample, prevSample: p.prevSample,
          noise: p.noise, key0: k0, key1: k1, coef: p.coef, scale: p.scale, ...out, baseline,
        });
        return out;
      };
      const best = await run(false), base4 = await run(true);
      for (const k of ['outPrev', 'outMean', 'outX0', 'sums'] as const) sameBits(base4[k], best[k], `options ${i} ${k}`);
    }
    const draws = async (baseline: boolean) => { const out = new Float32Array(100003); await addon['diffusionNoise']!({ key0: 5, key1: 6, first: 77, count: out.length, out, baseline }); return out; };
    sameBits(await draws(true), await draws(false), 'draws');
  });

  test('native diffusionNoise checks its arguments', async () => {
    const addon = loadNative() as unknown as Record<string, (a: object) => Promise<unknown>>;
    const good = () => ({ key0: 1, key1: 2, first: 0, count: 4, out: new Float32Array(4) });
    await addon['diffusionNoise']!(good());
    for (const patch of [{ out: new Float32Array(3) }, { out: new Float64Array(4) }, { first: 2 ** 32 - 2 }, { key0: -1 }, { count: 2 ** 33 }, { baseline: 1 }]) {
      let threw = false;
      try { await addon['diffusionNoise']!({ ...good(), ...patch }); } catch { threw = true; }
      assert.ok(threw, JSON.stringify(Object.keys(patch)));
    }
  });
}
if (nat.available) test('native addon checks its own arguments (below the TypeScript layer)', async () => {
  const addon = loadNative() as unknown as Record<string, (a: object) => Promise<unknown>>;
  const good = () => ({
    rows: 2, inner: 3, dtype: 0, modelOutput: new Float32Array(6), sample: new Float32Array(6), prevSample: null, noise: null,
    key0: 1, key1: 2, coef: new Float32Array(8), scale: new Float32Array(2), outPrev: new Float32Array(6), outMean: new Float32Array(6),
    outX0: null, sums: new Float64Array(2),
  });
  await addon['diffusionStep']!(good());
  for (const patch of [{ sample: new Float32Array(5) }, { dtype: 3 }, { dtype: 1 }, { coef: new Float32Array(7) }, { sums: new Float32Array(2) },
    { inner: 0 }, { rows: 2 ** 20, inner: 2 ** 13 }, { noise: new Float32Array(2) }, { outX0: new Float64Array(6) }]) {
    let threw = false;
    try { await addon['diffusionStep']!({ ...good(), ...patch }); } catch { threw = true; }
    assert.ok(threw, JSON.stringify(Object.keys(patch)));
  }
});

const gpu = await gpuStatus();
let small: GpuContext | undefined;
backendSuite('webgpu', gpu.available, gpu.available ? '' : String((gpu as { reason?: string }).reason));
if (gpu.available) {
  test('webgpu chunked (maxBindingSize 65536): rows split across bindings and rows larger than one', async () => {
    small = await createContext({ maxBindingSize: 65536 });
    for (const [i, spec] of [
      { method: 'sde', shape: [40, 1000], dtype: 'bf16', given: 'seed', steps: 10, mixed: true },
      { method: 'sde', shape: [3, 4, 80, 80], dtype: 'f16', given: 'prev', steps: 10, mixed: true },
      { method: 'ddim', shape: [2, 50001], dtype: 'f32', given: 'noise', steps: 50, mixed: true },
      { method: 'cps', shape: [3, 17, 1001], dtype: 'bf16', given: 'noise', steps: 10, mixed: true },
    ].entries()) await agreeStep(makeStep(spec as Spec, 50 + i), 'webgpu', `small ${JSON.stringify(spec)}`, small);
    // Per-row coefficients must fit one binding: 65536 / 32 = 2048 rows; more is a typed E_RANGE.
    const many = makeStep({ method: 'sde', shape: [3000, 2], dtype: 'f32', given: 'seed', steps: 10, mixed: true }, 9);
    try { await diffusionStep({ ...many, backend: 'webgpu', context: small }); assert.unreachable('no error'); }
    catch (e) { assert.instance(e, RewardkitError); assert.is((e as RewardkitError).code, 'E_RANGE'); }
    small.dispose();
  });
}

test('fuzz: malformed options give RewardkitErrors only (every backend)', async () => {
  const backends = ['js', ...(nat.available ? ['native'] : []), ...(gpu.available ? ['webgpu'] : [])];
  const num = fc.oneof(fc.integer({ min: -2, max: 12 }), fc.double(), fc.constantFrom(NaN, Infinity, 0.5, 2 ** 32));
  const anything = fc.oneof(fc.constant(undefined), fc.constant(null), fc.string(), num, fc.boolean());
  const arr = fc.oneof(
    fc.array(num, { maxLength: 24 }).map((a) => Float32Array.from(a)),
    fc.array(fc.integer({ min: 0, max: 65535 }), { maxLength: 24 }).map((a) => Uint16Array.from(a)),
    anything,
  );
  const arb = fc.record({
    method: fc.oneof(fc.constantFrom('sde', 'cps', 'ode', 'dance', 'ddim', 'x'), anything),
    schedule: fc.oneof(fc.constantFrom(sd3Sigmas(4), danceSigmas(3), ddimSchedule(5)), fc.record({ sigmas: fc.array(num, { maxLength: 5 }) }), anything),
    modelOutput: arr, sample: arr, prevSample: fc.oneof(arr, fc.constant(undefined)), noise: fc.oneof(arr, fc.constant(undefined)),
    shape: fc.oneof(fc.array(fc.integer({ min: -1, max: 6 }), { maxLength: 4 }), anything),
    dtype: fc.oneof(fc.constantFrom('f32', 'f16', 'bf16', 'f64'), anything),
    stepIndex: fc.oneof(fc.integer({ min: -1, max: 5 }), fc.array(num, { maxLength: 4 }), anything),
    noiseLevel: fc.oneof(num, anything), seed: fc.oneof(num, anything), predictX0: fc.oneof(fc.boolean(), anything),
    backend: fc.constantFrom(...backends),
  }, { requiredKeys: [] });
  await fc.assert(fc.asyncProperty(arb, async (o) => {
    try {
      const r = await diffusionStep(o as DiffusionStepOptions);
      assert.is(r.logProb.length, (o.shape as number[])[0]);
    } catch (e) {
      if (!(e instanceof RewardkitError)) throw e;
    }
  }), { numRuns: 300 * backends.length, seed: 42 });
  // Valid steps get through too, on every backend.
  for (const backend of backends) {
    const x = Float32Array.from({ length: 6 }, (_, i) => i / 3 - 1);
    const r = await diffusionStep({ schedule: sd3Sigmas(4), modelOutput: x, sample: x, shape: [2, 3], stepIndex: [0, 3], backend: backend as 'js' });
    assert.is(r.logProb.length, 2);
  }
});

test.after(async () => { await disposeDefaultContext(); });

test.run();
