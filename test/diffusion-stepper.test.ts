/**
 * The trajectory stepper (lib/diffusion/stepper.ts) end to end on the analytic Gaussian flow
 * (lib/diffusion/analytic.ts), with every expected value derived here from the formulas, not from
 * the library: v* = ((σ − a·s²)/V)(x − aμ) − μ, a = 1 − σ, V = a²s² + σ²; E[x0 | x] = μ + (a·s²/V)(x − aμ).
 *
 * Tolerances and why:
 * - Euler map (ODE, f32 kernel vs the f64 affine map x_N = A·z + B·μ): abs 2e-5. Each of N ≤ 20
 *   steps rounds x + dt·v in f32 (|x| ≲ 5, ulp 4.8e-7) and v is computed in f32 by the model.
 * - Landing on the target: |mean − μ| ≤ |B − 1|·|μ| + 5·A/√m and |var − A²| ≤ 5·A²·√(2/m) (m elements:
 *   5 standard errors of a sample mean/variance around what the Euler map gives), and A → s at first
 *   order in 1/N (the Euler bias of the spread; exact integration gives A = s, B = 1).
 * - Dense rewards R (f32 rewards of f32 latents vs f64 closed forms): rel 1e-4, abs 1e-5 — x̂0 = x − σv
 *   is one f32 fma-free evaluation (a few ulps of |x̂0| ≲ 5); the ODE look-ahead compounds ≤ N roundings.
 * - Advantages (A = (ΔR − mean_p)/(std_t + 1e-4)): the measured max |δR| of the row, times 4/(std_t + 1e-4),
 *   plus 1e-9: an error δ in each R moves ΔR by ≤ 2δ, the group mean by ≤ 2δ and std by ≤ 2δ.
 * - Backends (webgpu vs js): latents abs 1e-5, log-probs rel 1e-4 abs 1e-4 (as diffusion-step). Native
 *   vs js: latents and x̂0 rewards bit for bit (the same initial noise, steps and model); log-probs rel
 *   2.4e-7 (the f64 row sums are added in another order).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fc from 'fast-check';
import {
  createContext, disposeDefaultContext, gaussianFlow, gpuStatus, nativeStatus, RewardkitError, runTrajectories, sd3Sigmas,
  trajectoryLoss, type GpuContext, type RunTrajectoriesOptions,
} from '../lib/index.js';
import { isCI, mismatch } from './helpers.js';

const nativeOk = nativeStatus().available;
const gpuOk = (await gpuStatus()).available;
if (isCI && (!nativeOk || !gpuOk)) throw new Error(`CI needs every backend: native ${nativeOk}, webgpu ${gpuOk}`);
const backends = (['js', ...(nativeOk ? ['native'] : []), ...(gpuOk ? ['webgpu'] : [])] as Array<'js' | 'native' | 'webgpu'>);

const MEANS = [1.5, -1], STD = 0.5, OPT = [1, -0.5];
const flow = gaussianFlow({ means: MEANS, std: STD, optimum: OPT });
const base = (o: Partial<RunTrajectoriesOptions> = {}): RunTrajectoriesOptions => ({
  prompts: ['cat', 'dog'], samplesPerPrompt: 3, steps: 6, shape: [4, 8, 8], model: flow, reward: flow.reward, seed: 11, ...o,
});

/** The Euler map of the flow from step j: x_N = A·x_j + B·μ (f64, from the formulas above). */
function euler(sigmas: ArrayLike<number>, j: number): { A: number; B: number } {
  let A = 1, B = 0;
  for (let i = j; i < sigmas.length - 1; i++) {
    const s = sigmas[i]!, dt = sigmas[i + 1]! - s, a = 1 - s, V = a * a * STD * STD + s * s, c = (s - a * STD * STD) / V;
    A *= 1 + dt * c;
    B = (1 + dt * c) * B - dt * (c * a + 1);
  }
  return { A, B };
}

/** Reward −mean((x̂ − μ*)²) of each row of a per-element map x̂ = f(x, μ). */
function rewardsOf(x: Float32Array, rows: number, G: number, map: (x: number, mu: number) => number): Float64Array {
  const n = x.length / rows, out = new Float64Array(rows);
  for (let r = 0; r < rows; r++) {
    const p = Math.floor(r / G);
    let q = 0;
    for (let e = r * n; e < (r + 1) * n; e++) { const d = map(x[e]!, MEANS[p]!) - OPT[p]!; q += d * d; }
    out[r] = -q / n;
  }
  return out;
}

/** Flow-GRPO advantages per column of values [rows, cols]: per-prompt mean, global std (ddof 0) + 1e-4. */
function advantagesOf(values: Float64Array, rows: number, cols: number, G: number): Float64Array {
  const out = new Float64Array(rows * cols);
  for (let j = 0; j < cols; j++) {
    const col = Array.from({ length: rows }, (_, r) => values[r * cols + j]!);
    const m = col.reduce((s, v) => s + v, 0) / rows;
    const sd = Math.sqrt(col.reduce((s, v) => s + (v - m) ** 2, 0) / rows) + 1e-4;
    for (let r = 0; r < rows; r++) {
      const g = Math.floor(r / G) * G, pm = col.slice(g, g + G).reduce((s, v) => s + v, 0) / G;
      out[r * cols + j] = (col[r]! - pm) / sd;
    }
  }
  return out;
}

const maxAbs = (a: ArrayLike<number>, b: ArrayLike<number>) => { let m = 0; for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!)); return m; };

test('gaussianFlow: v* at σ = 1 is x − μ, x − σv* is the posterior mean, the reward peaks at μ*', () => {
  const x = Float32Array.from([0.3, -2, 1.1, 4]);
  const v1 = flow.velocity(x, { sigma: 1, promptIdx: [0, 1] });
  assert.equal(Array.from(v1), Array.from(x, (xi, i) => Math.fround(xi - MEANS[i < 2 ? 0 : 1]!)));
  const s = 0.4, v = flow.velocity(x, { sigma: s, promptIdx: [1, 0] }), pm = flow.posteriorMean(x, s, [1, 0]);
  for (let i = 0; i < 4; i++) assert.ok(Math.abs(x[i]! - s * v[i]! - pm[i]!) < 1e-6, `x̂0[${i}]`);
  assert.equal(Array.from(flow.reward(Float32Array.from([1, 1, -0.5, -0.5]), [0, 1])), [-0, -0]);
});

test('ODE trajectory lands on the target mean and variance within the Euler + sampling bound', async () => {
  const N = 20, G = 2, shape = [2048];
  const r = await runTrajectories(base({ method: 'ode', steps: N, samplesPerPrompt: G, shape, recordLatents: true, backend: 'js' }));
  const z = r.trajectory.latents![0]!, xN = r.samples, sig = sd3Sigmas(N).sigmas;
  const { A, B } = euler(sig, 0);
  // Euler is first order: the spread factor A tends to s (0.43 at N = 20 on sd3, the shifted schedule's
  // last steps are long), the error halving with each doubling of N; the mean is carried exactly (B = 1).
  assert.ok(Math.abs(B - 1) < 1e-12, `Euler map B ${B}`);
  for (const k of [20, 40, 80, 160]) {
    const e1 = euler(sd3Sigmas(k).sigmas, 0).A - STD, e2 = euler(sd3Sigmas(2 * k).sigmas, 0).A - STD;
    assert.ok(e1 < 0 && e2 / e1 > 0.4 && e2 / e1 < 0.6, `first order at N = ${k}: ${e1} → ${e2}`);
  }
  const n = shape[0]!;
  for (let e = 0; e < xN.length; e++) {
    const want = A * z[e]! + B * MEANS[Math.floor(e / n / G)]!;
    if (Math.abs(xN[e]! - want) > 2e-5) assert.unreachable(`x_N[${e}] ${xN[e]} vs ${want}`);
  }
  for (let p = 0; p < 2; p++) {
    const xs = xN.subarray(p * G * n, (p + 1) * G * n), m = xs.length;
    const mean = xs.reduce((s, v) => s + v, 0) / m, vr = xs.reduce((s, v) => s + (v - mean) ** 2, 0) / m;
    const mu = MEANS[p]!;
    assert.ok(Math.abs(mean - mu) <= Math.abs(B - 1) * Math.abs(mu) + (5 * A) / Math.sqrt(m), `prompt ${p} mean ${mean} vs ${mu}`);
    assert.ok(Math.abs(vr - A * A) <= 5 * A * A * Math.sqrt(2 / m), `prompt ${p} var ${vr} vs A² = ${A * A}`);
  }
  // The final rewards are the reward of the samples; the ODE's log-probs are NaN (zero scale).
  const want = rewardsOf(xN, r.promptIdx.length, G, (x) => x);
  assert.is(mismatch(Float32Array.from(r.rewards), Float32Array.from(want), 1e-5, 1e-6), '');
  assert.ok(r.trajectory.logProbs.every(Number.isNaN));
});

test('final rewards and per-prompt advantages (SDE)', async () => {
  const r = await runTrajectories(base({ recordLatents: true, backend: 'js' }));
  const B = 6, want = rewardsOf(r.samples, B, 3, (x) => x);
  assert.is(mismatch(Float32Array.from(r.rewards), Float32Array.from(want), 1e-5, 1e-6), '');
  assert.is(r.advantages.length, B);
  assert.ok(maxAbs(r.advantages, advantagesOf(r.rewards, B, 1, 3)) < 1e-9);
  assert.is(r.trajectory.latents!.length, 7);
  assert.is(r.trajectory.latents![6], r.samples);
  assert.ok(r.trajectory.logProbs.every(Number.isFinite));
});

for (const mode of ['x0', 'ode'] as const) {
  test(`dense '${mode}': step rewards, ΔR and advantages equal the closed forms`, async () => {
    const N = 6, G = 3, B = 6;
    const r = await runTrajectories(base({ dense: mode, recordLatents: true, backend: 'js' }));
    const sig = r.trajectory.sigmas, R = new Float64Array(B * (N + 1));
    for (let j = 0; j <= N; j++) {
      const s = sig[j]!, a = 1 - s, V = a * a * STD * STD + s * s, { A, B: Bm } = euler(sig, j);
      const col = rewardsOf(r.trajectory.latents![j]!, B, G, mode === 'x0' && j < N
        ? (x, mu) => mu + ((a * STD * STD) / V) * (x - a * mu) // E[x0 | x_j]
        : (x, mu) => A * x + Bm * mu); // the Euler ODE from step j (identity at j = N)
      for (let k = 0; k < B; k++) R[k * (N + 1) + j] = col[k]!;
    }
    const got = r.stepRewards!;
    assert.is(mismatch(Float32Array.from(got), Float32Array.from(R), 1e-4, 1e-5), '');
    const dR = new Float64Array(B * N);
    for (let k = 0; k < B; k++) for (let j = 0; j < N; j++) dR[k * N + j] = R[k * (N + 1) + j + 1]! - R[k * (N + 1) + j]!;
    assert.ok(maxAbs(r.dense!, dR) <= 2 * maxAbs(got, R) + 1e-12);
    const want = advantagesOf(dR, B, N, G);
    const tol = (4 * maxAbs(got, R)) / (Math.min(...Array.from({ length: N }, (_, j) => {
      const c = Array.from({ length: B }, (_, k) => dR[k * N + j]!), m = c.reduce((s, v) => s + v, 0) / B;
      return Math.sqrt(c.reduce((s, v) => s + (v - m) ** 2, 0) / B);
    })) + 1e-4) + 1e-9;
    assert.ok(maxAbs(r.advantages, want) <= tol, `advantages off by ${maxAbs(r.advantages, want)} > ${tol}`);
    assert.is(mismatch(Float32Array.from(r.rewards), Float32Array.from(Array.from({ length: B }, (_, k) => R[k * (N + 1) + N]!)), 1e-5, 1e-6), '');
  });
}

test('progress: N sampling steps, N look-aheads, one reward; look-ahead model calls N(N−1)/2', async () => {
  const seen: string[] = [];
  let calls = 0;
  const model = { velocity: (x: Float32Array, i: { sigma: number; promptIdx: Uint32Array }) => { calls++; return flow.velocity(x, i); } };
  await runTrajectories(base({ dense: true, model, onProgress: (p) => seen.push(`${p.phase}:${p.step}/${p.of}`) }));
  assert.is(seen.filter((s) => s.startsWith('sample')).length, 6);
  assert.is(seen.filter((s) => s.startsWith('lookahead')).length, 6);
  assert.is(seen.at(-1), 'reward:1/1');
  assert.is(seen[0], 'lookahead:1/6');
  assert.is(calls, 6 + (6 * 5) / 2);
});

test('backends agree: SDE latents, log-probs, dense x̂0 rewards', async () => {
  const runs = [];
  for (const backend of backends) runs.push(await runTrajectories(base({ dense: 'x0', recordLatents: true, backend })));
  const ref = runs[0]!;
  for (const r of runs.slice(1)) {
    assert.is(mismatch(r.samples, ref.samples, 1e-5, 1e-5), '', r.backend);
    assert.is(mismatch(r.trajectory.logProbs, ref.trajectory.logProbs, 1e-4, 1e-4), '', r.backend);
    assert.is(mismatch(Float32Array.from(r.stepRewards!), Float32Array.from(ref.stepRewards!), 1e-4, 1e-5), '', r.backend);
  }
});

test('native: the same trajectory as js bit for bit (recorded states, and the two-buffer loop without them)', async () => {
  if (!nativeOk) return;
  for (const o of [base({ dense: 'x0', recordLatents: true }), base({ dense: 'x0', shape: [3, 17], steps: 4 }), base({ method: 'cps', steps: 3 })]) {
    const js = await runTrajectories({ ...o, backend: 'js' }), nat = await runTrajectories({ ...o, backend: 'native' });
    const bits = (a: ArrayLike<number>, b: ArrayLike<number>, what: string) => {
      assert.is(a.length, b.length, what);
      for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i])) assert.unreachable(`${what}[${i}] ${a[i]} vs ${b[i]}`);
    };
    bits(nat.samples, js.samples, 'samples');
    bits(nat.rewards, js.rewards, 'rewards');
    if (js.stepRewards) bits(nat.stepRewards!, js.stepRewards, 'stepRewards');
    js.trajectory.latents?.forEach((x, i) => bits(nat.trajectory.latents![i]!, x, `latents[${i}]`));
    assert.is(mismatch(nat.trajectory.logProbs, js.trajectory.logProbs, 2.4e-7, 0), '');
  }
});

test('webgpu: latents larger than one binding (64 KiB cap) are stepped in chunks, same as js', async () => {
  if (!gpuOk) return;
  const ctx = await createContext({ maxBindingSize: 65536 });
  const o = base({ shape: [4, 40, 40], steps: 3, dense: 'x0' }); // rows of 25.6 KB, 154 KB in all
  const gpu = await runTrajectories({ ...o, backend: 'webgpu', context: ctx }), js = await runTrajectories({ ...o, backend: 'js' });
  assert.is(mismatch(gpu.samples, js.samples, 1e-5, 1e-5), '');
  assert.is(mismatch(gpu.trajectory.logProbs, js.trajectory.logProbs, 1e-4, 1e-4), '');
  assert.is(mismatch(Float32Array.from(gpu.stepRewards!), Float32Array.from(js.stepRewards!), 1e-4, 1e-5), '');
  ctx.dispose();
});

test('trajectoryLoss: unchanged log-probs give ratio 1 and loss −mean(clamp(A))', async () => {
  const r = await runTrajectories(base({ backend: 'js' }));
  const loss = await trajectoryLoss(r, r.trajectory.logProbs, { backend: 'js' });
  assert.ok(loss.ratio.every((x) => x === 1));
  const want = -r.advantages.reduce((s, a) => s + Math.max(-5, Math.min(5, Math.fround(a))), 0) / r.advantages.length;
  assert.ok(Math.abs(loss.loss - want) < 1e-6, `${loss.loss} vs ${want}`);
  assert.is(loss.perStep.length, 6);
});

const code = async (o: Partial<RunTrajectoriesOptions> | null, c: string, arg?: string, message?: RegExp) => {
  try {
    await runTrajectories((o === null ? null : base(o)) as RunTrajectoriesOptions);
  } catch (e) {
    assert.instance(e, RewardkitError);
    assert.is((e as RewardkitError).code, c, (e as Error).message);
    if (arg) assert.is((e as RewardkitError).argument, arg, (e as Error).message);
    if (message) assert.match((e as Error).message, message);
    return e as RewardkitError;
  }
  assert.unreachable(`no error for ${JSON.stringify(o)}`);
};

test('typed errors: options, shapes and bad callback results', async () => {
  await code(null, 'E_VALUE', 'options');
  await code({ prompts: [] }, 'E_VALUE', 'prompts');
  await code({ samplesPerPrompt: 0 }, 'E_VALUE', 'samplesPerPrompt');
  await code({ shape: [4, 0] }, 'E_VALUE', 'shape[1]');
  await code({ shape: [] }, 'E_SHAPE', 'shape');
  await code({ schedule: { sigmas: [1, 0.5, 0] } }, 'E_SHAPE', 'schedule.sigmas');
  await code({ method: 'ddim' as never }, 'E_VALUE', 'method');
  await code({ dense: 'yes' as never }, 'E_VALUE', 'dense');
  await code({ model: {} as never }, 'E_VALUE', 'model');
  await code({ reward: 3 as never }, 'E_VALUE', 'reward');
  await code({ model: { velocity: () => new Float32Array(5) } }, 'E_SHAPE', 'model.velocity() result');
  await code({ model: { velocity: () => new Int32Array(6 * 256) as never } }, 'E_DTYPE', 'model.velocity() result');
  await code({ model: { velocity: (x: Float32Array) => new Float32Array(x.length).fill(NaN) } }, 'E_VALUE', 'model.velocity() result[0]');
  // One bad value at step 2, on each backend and sampling mode (js/native check after the step whose
  // log-prob it poisons; with the ODE look-ahead every velocity is checked first, and the look-ahead
  // from step 0 already meets it): x̂0 rewards of steps 0 and 1 only, none with the look-ahead.
  for (const backend of backends) {
    for (const [bad, dense] of [[Infinity, false], [NaN, 'x0'], [-Infinity, 'ode']] as const) {
      let rewards = 0;
      const velocity = (x: Float32Array, i: { step: number; sigma: number; promptIdx: Uint32Array }) => {
        const v = flow.velocity(x, i);
        if (i.step === 2) v[777] = bad;
        return v;
      };
      const reward = (x: Float32Array, p: Uint32Array) => { rewards++; return flow.reward(x, p); };
      const e = await code({ model: { velocity }, reward, backend, dense, steps: 4 }, 'E_VALUE', 'model.velocity() result[777]');
      assert.match(e!.message, /finite/);
      assert.is(rewards, dense === 'x0' ? 2 : 0, `${backend} ${dense}`);
    }
  }
  await code({ reward: () => [1, 2] }, 'E_SHAPE', 'reward() result');
});

test('fuzz: malformed options and callback results give only RewardkitErrors', async () => {
  const junk = fc.oneof(fc.constant(undefined), fc.constant(null), fc.integer({ min: -2, max: 3 }), fc.double(), fc.string({ maxLength: 3 }),
    fc.constant([]), fc.constant([1, 0.5, 0]), fc.constant({ sigmas: [1, 0.6, 0.3, 0] }), fc.constant(new Float32Array(2)));
  const result = fc.oneof(fc.constant(new Float32Array(0)), fc.constant([NaN]), fc.constant('x'), fc.constant(null), fc.constant(new Float64Array(6)));
  await fc.assert(fc.asyncProperty(
    fc.constantFrom('prompts', 'samplesPerPrompt', 'steps', 'schedule', 'method', 'noiseLevel', 'shape', 'dense', 'seed', 'backend', 'onProgress', 'velocity', 'reward'),
    junk, result, async (key, value, bad) => {
      const o: Record<string, unknown> = { ...base({ steps: 3, shape: [2], backend: 'js' }) };
      if (key === 'velocity') o['model'] = { velocity: () => bad };
      else if (key === 'reward') o['reward'] = () => bad;
      else o[key] = value;
      try { await runTrajectories(o as unknown as RunTrajectoriesOptions); } catch (e) { if (!(e instanceof RewardkitError)) throw e; }
    }), { numRuns: 300, seed: 5 });
});

test('a failing callback rejects with a clear error on every backend; no GPU buffer leaks', async () => {
  let ctx: GpuContext | undefined;
  let live = 0;
  if (gpuOk) {
    ctx = await createContext();
    const acquire = ctx.acquire.bind(ctx), release = ctx.release.bind(ctx);
    ctx.acquire = (bytes, usage) => { live++; return acquire(bytes, usage); };
    ctx.release = (...bufs) => { live -= bufs.length; release(...bufs); };
  }
  const boom = (at: number) => ({ velocity: async (x: Float32Array, i: { step: number; sigma: number; promptIdx: Uint32Array }) => {
    if (i.step === at) throw new Error('model server unreachable');
    return flow.velocity(x, i);
  } });
  for (const backend of backends) {
    const e = await code({ model: boom(2), backend, ...(ctx && { context: ctx }) }, 'E_VALUE', 'model.velocity', /model\.velocity failed at step 2 of 6: model server unreachable/);
    assert.is((e!.cause as Error).message, 'model server unreachable');
    await code({ reward: async () => { throw new Error('scorer down'); }, dense: 'x0', backend, ...(ctx && { context: ctx }) }, 'E_VALUE', 'reward', /reward failed on x̂0 at step 0: scorer down/);
    if (backend === 'webgpu') assert.is(live, 0, 'every acquired GPU buffer went back to the pool');
  }
  // The context still works after the failures.
  if (ctx) {
    const r = await runTrajectories(base({ backend: 'webgpu', context: ctx }));
    assert.is(r.backend, 'webgpu');
    assert.is(live, 0);
    ctx.dispose();
  }
  disposeDefaultContext();
});

test.run();
