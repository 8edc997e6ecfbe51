/**
 * aggregateEnsemble: the JS reference against the conformance vectors (Coste et al., RewardBench) and
 * direct formulas, then native and WebGPU against the JS reference on random shapes and edge cases,
 * binding splits, typed errors and a fuzz.
 *
 * Tolerances (|a − e| <= abs + rel·|e|; NaN must match NaN, ±inf exactly):
 * - conformance (float64 vectors, tolerance 1e-12 for a float64 port): rel 1e-7, abs 3e-7 — the JS
 *   computes in f64 like the reference but takes f32 scores and returns f32. Rounding the inputs
 *   (|x| <= 1.9, 2^-24 relative: 1.1e-7) moves UWO by up to (1 + 2c·max|x − mean|)·1.1e-7 ≈ 3e-7,
 *   which the cancellation in mean − c·var (0.64 − 0.55) leaves as an absolute error.
 * - native vs JS: rel 1e-7, abs 0 — the same f64 operations in the same order, rounded to f32 (z-scores
 *   use the same sequential sums; a division by a power of two is a product by its exact reciprocal);
 *   libm, V8 and the vector `sqrt` are all correctly rounded. The results are in fact bit-identical,
 *   which one test checks with Object.is.
 * - WebGPU vs JS: rel 2e-5, abs 2e-5·s² for UWO and 2e-5·s otherwise (s = the data scale). WebGPU
 *   computes in f32: the mean of K ≤ 16 values loses ~K·2^-24 relative, the variance's cancellation
 *   makes its error absolute in s², and z-normalisation divides by an f32 std (tile moments merged in
 *   f64 on the host). Huge values (1e30) overflow f32 squares: the variance methods are not compared
 *   there on WebGPU (documented in docs/shaping.md).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fc from 'fast-check';
import { aggregateEnsemble, createContext, disposeDefaultContext, gpuStatus, nativeStatus, RewardkitError, type EnsembleOptions, type GpuContext } from '../lib/index.js';
import { ensembleMethods, type EnsembleMethod } from '../lib/scoring/ensemble.js';
import { loadNative } from '../lib/backends/native.js';
import { fixture, gauss, isCI, mismatch, rng } from './helpers.js';

type Concrete = 'js' | 'native' | 'webgpu';

// ---------------------------------------------------------------------------------------------
// Conformance.

const conf = fixture('conformance/scoring/ensembles.json');
const confCalls: Record<string, Partial<EnsembleOptions>> = {
  mean: { method: 'mean' },
  min_WCO: { method: 'min' },
  rewardbench_Worst: { method: 'min' },
  UWO_bon_default_coeff1: { method: 'uwo', c: 1, ddof: 0 },
  'UWO_bon_coeff0.5': { preset: 'coste-bon' },
  'UWO_ppo_torchvar_unbiased_coeff0.1': { preset: 'coste-ppo' },
  rewardbench_Uncertainty_mean_minus_std: { method: 'meanMinusStd', lambda: 1, ddof: 0 },
  median: { method: 'median' },
  mean_minus_1std_ddof0: { method: 'meanMinusStd', ddof: 0 },
  mean_minus_1std_ddof1: { method: 'meanMinusStd', ddof: 1 },
};

test('conformance: every ensembles.json case and output', async () => {
  let n = 0;
  for (const c of conf.cases) {
    const scores: number[] = c.inputs.scores;
    for (const [name, expected] of Object.entries(c.outputs as Record<string, number>)) {
      const call = confCalls[name];
      assert.ok(call, `unmapped output ${name}`);
      const r = await aggregateEnsemble({ scores, shape: [scores.length, 1], ...call, backend: 'js' });
      assert.is(mismatch(r.scores, [expected], 1e-7, Math.max(c.tolerance.abs, 3e-7)), '', `${c.id} ${name}`);
      n++;
    }
  }
  assert.ok(n >= 20);
});

test('RewardBench: z-normalise each model over all its scores (np.std), then Mean / Worst / Uncertainty', async () => {
  const K = 3, B = 7, r = rng(3);
  const s = Array.from({ length: K * B }, () => gauss(r) * (1 + r() * 3) + r() * 2);
  const z = s.slice();
  for (let k = 0; k < K; k++) {
    const row = s.slice(k * B, (k + 1) * B);
    const m = row.reduce((a, b) => a + b) / B;
    const sd = Math.sqrt(row.reduce((a, b) => a + (b - m) ** 2, 0) / B);
    for (let i = 0; i < B; i++) z[k * B + i] = (s[k * B + i]! - m) / sd;
  }
  const col = (i: number) => [0, 1, 2].map((k) => z[k * B + i]!);
  const mean = (v: number[]) => v.reduce((a, b) => a + b) / v.length;
  const std = (v: number[]) => Math.sqrt(mean(v.map((x) => (x - mean(v)) ** 2)));
  const want = {
    'rewardbench-mean': Array.from({ length: B }, (_, i) => mean(col(i))),
    'rewardbench-worst': Array.from({ length: B }, (_, i) => Math.min(...col(i))),
    'rewardbench-uncertainty': Array.from({ length: B }, (_, i) => mean(col(i)) - std(col(i))),
  };
  for (const [preset, expected] of Object.entries(want)) {
    const got = await aggregateEnsemble({ scores: s, shape: [K, B], preset: preset as never, backend: 'js' });
    assert.is(mismatch(got.scores, expected, 1e-6, 1e-7), '', preset);
  }
});

test('edge cases of the reference: K = 1, NaN, ties, even-K median, all-equal z-scores', async () => {
  const one = await aggregateEnsemble({ scores: [2.5, -1], shape: [1, 2], method: 'uwo', ddof: 1, backend: 'js' });
  assert.ok(Number.isNaN(one.scores[0]!) && Number.isNaN(one.scores[1]!)); // torch.var of one value
  const one0 = await aggregateEnsemble({ scores: [2.5, -1], shape: [1, 2], method: 'meanMinusStd', backend: 'js' });
  assert.equal(Array.from(one0.scores), [2.5, -1]);
  const nan = await aggregateEnsemble({ scores: [1, NaN, 3, 4], shape: [2, 2], method: 'min', backend: 'js' });
  assert.ok(Number.isNaN(nan.scores[1]!));
  assert.is(nan.scores[0], 1);
  const med = await aggregateEnsemble({ scores: [4, 1, 3, 2], shape: [4, 1], method: 'median', backend: 'js' });
  assert.is(med.scores[0], 2.5); // np.median averages the middle two
  const flat = await aggregateEnsemble({ scores: [2, 2, 2, 1, 2, 3], shape: [2, 3], zNormalize: true, backend: 'js' });
  assert.equal(Array.from(flat.scores).map((x) => Math.round(x * 1e6) / 1e6), [-0.612372, 0, 0.612372]); // model 0 all equal: ÷1
});

// ---------------------------------------------------------------------------------------------
// Backends against the reference.

type Special = 'random' | 'nan' | 'ties' | 'huge' | 'allEqual' | 'tiny';
function makeScores(seed: number, K: number, B: number, special: Special): Float32Array {
  const r = rng(seed);
  const s = new Float32Array(K * B);
  for (let i = 0; i < s.length; i++) {
    s[i] = special === 'ties' ? Math.round(gauss(r) * 2) / 2 : special === 'allEqual' ? 0.75 : gauss(r) + 0.3;
    if (special === 'huge') s[i] *= 1e30;
    if (special === 'tiny') s[i] *= 1e-30;
  }
  if (special === 'nan') for (let i = 0; i < s.length; i++) if (r() < 0.05) s[i] = NaN;
  return s;
}

function tolerance(backend: Concrete, method: EnsembleMethod, zNormalize: boolean, scale: number): { rel: number; abs: number } {
  if (backend !== 'webgpu') return { rel: 1e-7, abs: 0 };
  const s = zNormalize ? 1 : scale;
  return { rel: 2e-5, abs: 2e-5 * (method === 'uwo' ? s * s : s) };
}

async function agree(backend: Concrete, o: EnsembleOptions, label: string, context?: GpuContext): Promise<void> {
  const ref = await aggregateEnsemble({ ...o, backend: 'js' });
  const got = await aggregateEnsemble({ ...o, backend, ...(context ? { context } : {}) });
  assert.is(got.backend, backend);
  const method = o.method ?? 'mean';
  let scale = 0;
  for (const x of o.scores as Float32Array) if (Number.isFinite(x)) scale = Math.max(scale, Math.abs(x));
  const { rel, abs } = tolerance(backend, method, o.zNormalize ?? false, Math.max(scale, 1e-30));
  assert.is(mismatch(got.scores, ref.scores, rel, abs), '', label);
}

function backendSuite(backend: 'native' | 'webgpu'): void {
  test(`${backend}: every method × ddof × zNormalize × edge case × shape agrees with js`, async () => {
    let seed = 1;
    const specials: Special[] = ['random', 'nan', 'ties', 'huge', 'allEqual', 'tiny'];
    for (const [K, B] of [[1, 1], [1, 17], [2, 5], [3, 64], [4, 300], [5, 33], [8, 129], [16, 200], [4, 1]] as const) {
      for (const special of specials) for (const method of ensembleMethods) for (const ddof of [0, 1] as const) for (const zNormalize of [false, true]) {
        if (ddof === 1 && !(method === 'uwo' || method === 'meanMinusStd')) continue;
        if (backend === 'webgpu' && special === 'huge' && (method === 'uwo' || method === 'meanMinusStd' || zNormalize)) continue; // f32 squares overflow
        if (backend === 'webgpu' && special === 'tiny' && (method === 'uwo' || method === 'meanMinusStd' || zNormalize)) continue; // f32 squares underflow
        const scores = makeScores(seed++, K, B, special);
        await agree(backend, { scores, shape: [K, B], method, ddof, zNormalize, c: 0.5, lambda: 1.5 }, `${K}x${B} ${special} ${method} ddof${ddof} z${zNormalize}`);
      }
    }
  });
  test(`${backend}: ${backend === 'native' ? '4 × 1,048,576' : '4 × 65,536'} scores`, async () => {
    const B = backend === 'native' ? 1 << 20 : 1 << 16;
    for (const method of ['mean', 'median', 'uwo'] as const) {
      await agree(backend, { scores: makeScores(99, 4, B, 'random'), shape: [4, B], method, zNormalize: method === 'uwo' }, `4x${B} ${method}`);
    }
  });
}

/** The first index where a and b differ as Object.is sees them (−0 ≠ +0, NaN = NaN), or −1. */
function firstDifference(a: Float32Array, b: Float32Array): number {
  for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i])) return i;
  return a.length === b.length ? -1 : a.length;
}

const native = nativeStatus();
if (native.available) {
  backendSuite('native');
  test('native: the same bits as js (−0, ±inf, NaN), every row count around the lane groups', async () => {
    // Rows run 4 to 16 at a time, the last few through a padded copy: every count from 1 to 40 hits
    // each tail length. Scores mix ±0, ±inf, NaN and huge values.
    const r = rng(7);
    const pool = [0, -0, Infinity, -Infinity, NaN, 1e30, -1e30, 0.5, -0.5, 1.5];
    for (const K of [1, 2, 3, 4, 5, 8]) for (let B = 1; B <= 40; B++) {
      const scores = Float32Array.from({ length: K * B }, () => (r() < 0.3 ? pool[Math.floor(r() * pool.length)]! : gauss(r)));
      for (const method of ensembleMethods) for (const ddof of [0, 1] as const) for (const zNormalize of [false, true]) {
        if (ddof === 1 && !(method === 'uwo' || method === 'meanMinusStd')) continue;
        const o: EnsembleOptions = { scores, shape: [K, B], method, ddof, zNormalize, c: 0.5, lambda: 1.5 };
        const ref = await aggregateEnsemble({ ...o, backend: 'js' }), got = await aggregateEnsemble({ ...o, backend: 'native' });
        const i = firstDifference(got.scores, ref.scores);
        assert.is(i, -1, `${K}x${B} ${method} ddof${ddof} z${zNormalize}: [${i}] ${got.scores[i]} vs ${ref.scores[i]}`);
      }
    }
  });
  test('native: the addon itself rejects malformed arguments', async () => {
    const addon = loadNative() as unknown as Record<string, (a: object) => Promise<unknown>>;
    const good = { members: 2, rows: 3, scores: new Float32Array(6), method: 0, c: 1, ddof: 0, lambda: 1, zNormalize: false, out: new Float32Array(3) };
    await addon['aggregateEnsemble']!(good);
    for (const bad of [{ scores: new Float32Array(5) }, { members: 0 }, { members: 65 }, { method: 6 }, { ddof: 2 }, { out: new Float32Array(2) }, { zNormalize: 1 }]) {
      let threw = false;
      try { await addon['aggregateEnsemble']!({ ...good, ...bad }); } catch (e) { threw = e instanceof TypeError || e instanceof RangeError; }
      assert.ok(threw, JSON.stringify(bad));
    }
  });
} else if (isCI) {
  test('native addon is available in CI', () => assert.unreachable(`native unavailable: ${native.reason}`));
} else console.error(`\n!!! SKIPPING native ensemble tests: ${native.reason}\n`);

const gpu = await gpuStatus();
if (gpu.available) {
  backendSuite('webgpu');
  test('webgpu: a 64 KiB binding cap splits the [K, B] scores into row chunks (z-scores merged across them)', async () => {
    const small = await createContext({ maxBindingSize: 65536 });
    try {
      for (const [K, B] of [[4, 20000], [16, 3000], [1, 70000]] as const) {
        assert.ok(K * B * 4 > 65536);
        for (const method of ['mean', 'median', 'meanMinusStd'] as const) {
          await agree('webgpu', { scores: makeScores(K + B, K, B, 'random'), shape: [K, B], method, zNormalize: true }, `split ${K}x${B} ${method}`, small);
        }
      }
    } finally { small.dispose(); }
  });
} else if (isCI) {
  test('webgpu is available in CI', () => assert.unreachable(`webgpu unavailable: ${gpu.reason}`));
} else console.error(`\n!!! SKIPPING webgpu ensemble tests: ${gpu.reason}\n`);

// ---------------------------------------------------------------------------------------------
// Errors and fuzz.

test('errors: malformed options raise RewardkitError naming the argument', async () => {
  const cases: Array<[unknown, string, string]> = [
    [null, 'options', 'E_VALUE'],
    [{ scores: [1, 2], shape: [2] }, 'shape', 'E_SHAPE'],
    [{ scores: [1, 2, 3], shape: [2, 2] }, 'scores', 'E_SHAPE'],
    [{ scores: new Int32Array(4), shape: [2, 2] }, 'scores', 'E_DTYPE'],
    [{ scores: [1, 2], shape: [2, 1], method: 'avg' }, 'method', 'E_VALUE'],
    [{ scores: [1, 2], shape: [2, 1], ddof: 2 }, 'ddof', 'E_VALUE'],
    [{ scores: [1, 2], shape: [2, 1], c: NaN }, 'c', 'E_VALUE'],
    [{ scores: [1, 2], shape: [2, 1], lambda: Infinity }, 'lambda', 'E_VALUE'],
    [{ scores: [1, 2], shape: [0, 2] }, 'shape[0]', 'E_VALUE'],
    [{ scores: new Float32Array(65), shape: [65, 1] }, 'shape[0]', 'E_RANGE'],
    [{ scores: [1, 2], shape: [2, 1], zNormalize: 'yes' }, 'zNormalize', 'E_VALUE'],
    [{ scores: [1, 2], shape: [2, 1], preset: 'openrlhf' }, 'preset', 'E_VALUE'],
    [{ scores: [1, 2], shape: [2, 1], out: new Float32Array(3) }, 'out', 'E_SHAPE'],
    [{ scores: [1, 2], shape: [2, 1], backend: 'cuda' }, 'backend', 'E_VALUE'],
  ];
  for (const [o, argument, code] of cases) {
    try { await aggregateEnsemble(o as never); assert.unreachable(JSON.stringify(o)); } catch (e) {
      assert.instance(e, RewardkitError);
      assert.is((e as RewardkitError).argument, argument, JSON.stringify(o));
      assert.is((e as RewardkitError).code, code, JSON.stringify(o));
    }
  }
});

const fuzzBackends: Concrete[] = ['js', ...(native.available ? ['native' as const] : []), ...(gpu.available ? ['webgpu' as const] : [])];
const fuzzOptions = fc.record({
  scores: fc.oneof(fc.array(fc.oneof(fc.double(), fc.constant(NaN)), { maxLength: 40 }).map((a) => Float32Array.from(a)), fc.constant([1, 'x']), fc.constant(null)),
  shape: fc.oneof(fc.tuple(fc.integer({ min: -1, max: 8 }), fc.integer({ min: -1, max: 8 })), fc.constant([2.5, 1]), fc.constant('fit')),
  method: fc.oneof(fc.constantFrom(...ensembleMethods), fc.constant('bad')),
  ddof: fc.constantFrom(0, 1, 2, undefined),
  zNormalize: fc.constantFrom(true, false, undefined, 1),
  c: fc.oneof(fc.double(), fc.constant(undefined)),
}, { requiredKeys: ['scores', 'shape'] });

for (const backend of fuzzBackends) {
  test(`fuzz ${backend}: 300 random inputs, zero crashes, only RewardkitErrors`, async () => {
    let accepted = 0;
    await fc.assert(fc.asyncProperty(fuzzOptions, async (o) => {
      try {
        const scores = o.scores as ArrayLike<number> | null;
        const shape = o.shape === 'fit' ? [1, scores?.length ?? 0] : o.shape; // 'fit': a valid [1, B] for the array
        const r = await aggregateEnsemble({ ...(o as object), shape, backend } as never);
        accepted++;
        return r.scores instanceof Float32Array;
      } catch (e) {
        if (!(e instanceof RewardkitError)) throw e;
        return /Expected .+ but received |unavailable/.test(e.message);
      }
    }), { numRuns: 300, seed: 4242 });
    console.log(`  ${backend}: ${accepted} of 300 inputs were valid and computed`);
  });
}

test.after(() => disposeDefaultContext());
test.run();
