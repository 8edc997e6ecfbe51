/**
 * shapeRewards and RunningStats: the JS reference against PAR's conformance vectors (every case of
 * par_shaping.json), then native and WebGPU against the JS reference over flag combinations, shapes,
 * several batches sharing running stats, edge cases, binding splits, typed errors and a fuzz.
 *
 * Tolerances (|a − e| <= abs + rel·|e|; NaN must match NaN, ±inf exactly):
 * - conformance (float64 vectors, tolerance 1e-12): rel 2e-7, abs 3e-7 for shaped rewards — the JS
 *   computes in f64 but takes f32 rewards/references (|x| <= 4: 2^-24·4 = 2.4e-7 per input) and
 *   returns f32; every transform here has slope <= 1 in each input. Running stats: rel 1e-12 (the
 *   batches are exact in f32, the merge is f64 as in PAR).
 * - native vs JS: rel 1e-6, abs 1e-7 — the same f64 steps, but the batch moments are per-block
 *   (16,384 rows) means and squared deviations merged with Chan's update (not one sequential sum), the
 *   vector exp/log1p are within 2 ulp of libm's (tanh is libm's) and V8's may differ from libm's by an
 *   ulp; all far below the f32 output rounding. Running stats: rel 1e-12.
 * - WebGPU vs JS: rel 2e-5, abs 2e-5·max(1, scale): f32 throughout (a relative transform averages
 *   up to 10 f32 terms; meanstd divides by a std whose moments are f32 tiles merged in f64; WGSL's
 *   exp/tanh/log are a few ulp). Running stats: rel 1e-5 (f32 tile moments).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fc from 'fast-check';
import { createContext, disposeDefaultContext, gpuStatus, nativeStatus, RewardkitError, RunningStats, shapeRewards, type GpuContext, type ShapingFlags, type ShapingOptions } from '../lib/index.js';
import { loadNative } from '../lib/backends/native.js';
import { fixture, gauss, isCI, mismatch, rng } from './helpers.js';

type Concrete = 'js' | 'native' | 'webgpu';
const TOL: Record<Concrete, { rel: number; abs: number; stats: number }> = {
  js: { rel: 2e-7, abs: 3e-7, stats: 1e-12 },
  native: { rel: 1e-6, abs: 1e-7, stats: 1e-12 },
  webgpu: { rel: 2e-5, abs: 2e-5, stats: 1e-5 },
};

// ---------------------------------------------------------------------------------------------
// Conformance.

const conf = fixture('conformance/scoring/par_shaping.json');

/** PAR's config → rewardkit flags. */
function flagsOf(c: Record<string, any>): ShapingFlags {
  const mode = (on: boolean) => (on ? (c['reward_relative'] ? 'relative' as const : true) : false);
  return {
    ceil: c['reward_ceil'],
    lengthPenalty: c['reward_penalize_length'] && !c['reward_odin'] ? { validLength: c['gen_valid_len'], coefficient: c['len_penalty'] } : false,
    centered: c['reward_centered'], sgfc: c['reward_sgfc'], meanstd: c['reward_meanstd'], clipping: c['reward_clipping'], minmax: c['reward_minmax'],
    sigmoid: mode(c['reward_sigmoid']), tanh: mode(c['reward_tanh']), fittedPoly: mode(c['reward_fittedpoly']), lsc: c['reward_lsc'],
    k: c['sigmoid_k'], maxRef: c['reward_maxref'],
  };
}

test('conformance: every par_shaping.json case', async () => {
  let n = 0;
  for (const c of conf.cases) {
    if (c.id === 'fitted_poly') {
      const x: number[] = c.inputs.x;
      const r = await shapeRewards({ rewards: x, options: { fittedPoly: true }, backend: 'js' });
      assert.is(mismatch(r.rewards, c.outputs.y_curve_fit_params, 2e-7, 3e-7), '', c.id);
      n++;
      continue;
    }
    const flags = flagsOf(c.params);
    if (c.inputs.batches) {
      const stats = new RunningStats();
      for (const [b, batch] of (c.inputs.batches as number[][]).entries()) {
        const r = await shapeRewards({ rewards: batch, lengths: c.inputs.response_lengths, options: flags, stats, backend: 'js' });
        assert.is(mismatch(r.rewards, c.outputs.shaped_per_batch[b], 2e-7, 3e-7), '', `${c.id} batch ${b}`);
        const want = c.outputs.stats_after_each[b], got = r.stats;
        assert.is(mismatch([got.n, got.mean, got.M2, got.variance, got.min, got.max], [want.n, want.mean, want.M2, want.var, want.min, want.max], 1e-12, 1e-12), '', `${c.id} stats ${b}`);
        n++;
      }
      continue;
    }
    const refs: number[][] = c.inputs.sftref_rewards;
    const r = await shapeRewards({
      rewards: c.inputs.reward, references: refs.flat(), referenceCount: refs[0]!.length, lengths: c.inputs.response_lengths, options: flags, backend: 'js',
    });
    assert.is(mismatch(r.rewards, c.outputs.shaped, 2e-7, 3e-7), '', c.id);
    n++;
  }
  assert.is(n, conf.cases.length + 2); // the running case has three batches
});

test('running stats: PAR\'s update twice per batch when meanstd and clipping are both on; LSC; centered', async () => {
  // Direct f64 formulas for a small batch.
  const rewards = [1.5, -2, 0.25, 3], refs = [0.5, -0.5, 1, 2, 0, 0.25, -1, 1.5];
  const stats = new RunningStats();
  const r = await shapeRewards({ rewards, options: { meanstd: true, clipping: true }, stats, backend: 'js' });
  const m = rewards.reduce((a, b) => a + b) / 4, sd = Math.sqrt(rewards.reduce((a, b) => a + (b - m) ** 2, 0) / 4);
  const z = rewards.map((x) => (x - m) / sd);
  const s2 = new RunningStats(); s2.updateFrom(rewards); s2.updateFrom(z);
  assert.is(stats.n, 8);
  assert.is(mismatch([stats.mean, stats.M2], [s2.mean, s2.M2], 1e-12, 1e-12), '');
  assert.is(mismatch(r.rewards, z.map((x) => Math.min(Math.max(x, s2.mean - s2.std), s2.mean + s2.std)), 1e-6, 1e-7), '');
  const lsc = await shapeRewards({ rewards, references: refs, referenceCount: 2, options: { lsc: true }, backend: 'js' });
  const q = (a: number, b: number) => { const mu = (a + b) / 2; const s = Math.sqrt(((a - mu) ** 2 + (b - mu) ** 2) / 1); return mu + (s + 1e-5) * 1.0364333894937898; };
  assert.is(mismatch(lsc.rewards, rewards.map((x, i) => Math.log(1 / (1 + Math.exp(-(x - q(refs[2 * i]!, refs[2 * i + 1]!)))))), 1e-6, 1e-7), '');
  const big = await shapeRewards({ rewards: [-300], references: [0], options: { lsc: true }, backend: 'js' });
  assert.ok(Math.abs(big.rewards[0]! - (-300 - 1e-5 * 1.0364333894937898)) < 1e-3); // log σ(−300): no −inf
});

// ---------------------------------------------------------------------------------------------
// Backends against the reference.

/** Dense batches pass referenceCount (the native kernel then takes a stride), ragged ones referenceOffsets. */
interface Batch { rewards: Float32Array; references: Float32Array; referenceOffsets?: Uint32Array; referenceCount?: number; lengths: Uint32Array }
function makeBatch(seed: number, B: number, ragged: boolean, scale = 2, most = 12): Batch {
  const r = rng(seed);
  const counts = Array.from({ length: B }, () => (ragged ? 1 + Math.floor(r() * most) : 10));
  const referenceOffsets = new Uint32Array(B + 1);
  for (let i = 0; i < B; i++) referenceOffsets[i + 1] = referenceOffsets[i]! + counts[i]!;
  const references = Float32Array.from({ length: referenceOffsets[B]! }, () => gauss(r) * scale * 0.5);
  const rewards = Float32Array.from({ length: B }, () => gauss(r) * scale + 0.2);
  const lengths = Uint32Array.from({ length: B }, () => Math.floor(r() * 600));
  return { rewards, references, lengths, ...(ragged ? { referenceOffsets } : { referenceCount: 10 }) };
}

const FLAG_SETS: Array<[string, ShapingFlags]> = [
  ['par', { par: true }],
  ['sigmoid k=2', { sigmoid: true, k: 2 }],
  ['centered', { centered: true }],
  ['sgfc', { sgfc: true }],
  ['tanh', { tanh: true }],
  ['tanh relative', { tanh: 'relative' }],
  ['fittedPoly', { fittedPoly: true }],
  ['fittedPoly relative maxRef 4', { fittedPoly: 'relative', maxRef: 4 }],
  ['lsc', { lsc: true }],
  ['meanstd', { meanstd: true }],
  ['clipping', { clipping: true }],
  ['minmax', { minmax: true }],
  ['ceil', { ceil: 0.5 }],
  ['no penalty', { lengthPenalty: false, par: true }],
  ['everything', { ceil: 1.5, centered: true, meanstd: true, clipping: true, minmax: true, par: true, tanh: true, fittedPoly: 'relative', lsc: true }],
  ['stats then PAR', { meanstd: true, clipping: true, ceil: 0.8, par: true }],
];

async function agree(backend: Concrete, batches: Batch[], flags: ShapingFlags, label: string, context?: GpuContext): Promise<void> {
  const sRef = new RunningStats(), sGot = new RunningStats();
  const tol = TOL[backend];
  for (const [b, batch] of batches.entries()) {
    const o: ShapingOptions = { ...batch, options: flags };
    const ref = await shapeRewards({ ...o, stats: sRef, backend: 'js' });
    const got = await shapeRewards({ ...o, stats: sGot, backend, ...(context ? { context } : {}) });
    assert.is(got.backend, backend);
    let scale = 1;
    for (const x of ref.rewards) if (Number.isFinite(x)) scale = Math.max(scale, Math.abs(x));
    assert.is(mismatch(got.rewards, ref.rewards, tol.rel, tol.abs * scale), '', `${label} batch ${b}`);
    assert.is(mismatch([sGot.n, sGot.mean, sGot.M2, sGot.min, sGot.max], [sRef.n, sRef.mean, sRef.M2, sRef.min, sRef.max], tol.stats, tol.stats), '', `${label} stats ${b}`);
  }
}

function backendSuite(backend: 'native' | 'webgpu'): void {
  test(`${backend}: every flag set × shape × dense/ragged references, three batches sharing stats, agrees with js`, async () => {
    let seed = 10;
    for (const B of [1, 2, 7, 64, 300, 1000]) for (const ragged of [false, true]) for (const [name, flags] of FLAG_SETS) {
      const batches = [0, 1, 2].map(() => makeBatch(seed++, B, ragged));
      await agree(backend, batches, flags, `B=${B} ${ragged ? 'ragged' : 'dense'} ${name}`);
    }
  });
  test(`${backend}: edge cases (all-equal rewards, huge and tiny values, ties, one reference)`, async () => {
    const B = 50;
    const eq = makeBatch(1, B, false); eq.rewards.fill(0.75);
    await agree(backend, [eq, eq], { meanstd: true, clipping: true, minmax: true, par: true }, 'all equal');
    const huge = makeBatch(2, B, false, 1e6);
    await agree(backend, [huge], { centered: true, tanh: true }, 'huge');
    await agree(backend, [huge], { meanstd: true }, 'huge meanstd');
    const tiny = makeBatch(3, B, true, 1e-20);
    await agree(backend, [tiny], { par: true, lsc: true }, 'tiny');
    const nan = makeBatch(4, B, false); nan.rewards[3] = NaN; nan.references[7] = Infinity;
    await agree(backend, [nan], { par: true, tanh: true }, 'NaN reward, inf reference (no stats)');
    const one = makeBatch(5, B, true); one.referenceOffsets = Uint32Array.from({ length: B + 1 }, (_, i) => i); one.references = one.references.subarray(0, B);
    await agree(backend, [one], { lsc: true, centered: true }, 'one reference per row');
  });
  test(`${backend}: ${backend === 'native' ? '1,048,576' : '65,536'} rows, M = 10, PAR + meanstd`, async () => {
    const B = backend === 'native' ? 1 << 20 : 1 << 16;
    await agree(backend, [makeBatch(77, B, false)], { par: true, meanstd: true }, `B=${B}`);
  });
  test(`${backend}: long and uneven reference lists, rows without any (LSC), and empty-reference rows between`, async () => {
    // Up to 80 references a row: relative transforms read maxRef of them, LSC all of them, in chunks.
    for (const B of [5, 61, 400]) {
      const long = makeBatch(B, B, true, 2, 80);
      await agree(backend, [long], { par: true, maxRef: 50, tanh: 'relative', lsc: true }, `B=${B} up to 80 references`);
      const offsets = Uint32Array.from({ length: B + 1 }, (_, i) => 3 * Math.floor(i / 2)); // every other row has none
      const sparse = { ...long, references: long.references.subarray(0, offsets[B]!), referenceOffsets: offsets };
      await agree(backend, [sparse], { lsc: true, fittedPoly: true }, `B=${B} LSC, rows without references`);
    }
  });
  test(`${backend}: several blocks of running-stats moments (50,000 rows), every stats step, three batches`, async () => {
    const batches = [0, 1, 2].map((k) => makeBatch(300 + k, 50000, k === 1));
    await agree(backend, batches, { ceil: 1.5, centered: true, meanstd: true, clipping: true, minmax: true, par: true, lsc: true }, 'B=50000 all stats');
    await agree(backend, batches, { meanstd: true, clipping: true }, 'B=50000 meanstd + clipping');
  });
}

const native = nativeStatus();
if (native.available) {
  backendSuite('native');
  test('native: the addon itself rejects malformed arguments', async () => {
    const addon = loadNative() as unknown as Record<string, (a: object) => Promise<unknown>>;
    const good = {
      rows: 2, rewards: new Float32Array(2), refCount: 2, refs: new Float32Array(2), refOffsets: Uint32Array.from([0, 1, 2]), lengths: null,
      hasCeil: false, ceil: 0, penalty: false, validLength: 0, coefficient: 0, centered: true, sgfc: false, meanstd: false, clipping: false,
      minmax: false, sigmoid: 0, tanh: 0, fittedPoly: 0, lsc: false, k: 1, maxRef: 10, statN: 0, statMean: 0, statM2: 0, statMin: 1e4, statMax: -1e4,
      out: new Float32Array(2),
    };
    await addon['shapeRewards']!(good);
    await addon['shapeRewards']!({ ...good, refOffsets: undefined, refStride: 1 }); // dense: a stride instead of offsets
    for (const bad of [{ refs: new Float32Array(1) }, { refOffsets: Uint32Array.from([0, 2, 1]) }, { refOffsets: Uint32Array.from([0, 0, 2]) },
      { penalty: true }, { sigmoid: 3 }, { maxRef: 0 }, { out: new Float32Array(1) }, { rows: 0 }, { refStride: 2 }, { refStride: 0, refCount: 0, refs: new Float32Array(0) },
      { refStride: -1 }]) {
      let threw = false;
      try { await addon['shapeRewards']!({ ...good, ...bad }); } catch (e) { threw = e instanceof TypeError || e instanceof RangeError; }
      assert.ok(threw, JSON.stringify(Object.keys(bad)));
    }
  });
} else if (isCI) {
  test('native addon is available in CI', () => assert.unreachable(`native unavailable: ${native.reason}`));
} else console.error(`\n!!! SKIPPING native shaping tests: ${native.reason}\n`);

const gpu = await gpuStatus();
if (gpu.available) {
  backendSuite('webgpu');
  test('webgpu: a 64 KiB binding cap splits rows and references into runs (moments merged across them)', async () => {
    const small = await createContext({ maxBindingSize: 65536 });
    try {
      await agree('webgpu', [makeBatch(8, 20000, true), makeBatch(9, 20000, false)], { centered: true, meanstd: true, clipping: true, par: true, lsc: true }, 'split', small);
    } finally { small.dispose(); }
  });
} else if (isCI) {
  test('webgpu is available in CI', () => assert.unreachable(`webgpu unavailable: ${gpu.reason}`));
} else console.error(`\n!!! SKIPPING webgpu shaping tests: ${gpu.reason}\n`);

// ---------------------------------------------------------------------------------------------
// Errors and fuzz.

test('errors: malformed options raise RewardkitError naming the argument', async () => {
  const cases: Array<[unknown, string, string]> = [
    [null, 'options', 'E_VALUE'],
    [{ rewards: [] }, 'rewards', 'E_SHAPE'],
    [{ rewards: 'x' }, 'rewards', 'E_DTYPE'],
    [{ rewards: [1, 2], options: { par: true } }, 'references', 'E_VALUE'],
    [{ rewards: [1, 2], references: [1, 2, 3], options: { par: true } }, 'references', 'E_SHAPE'],
    [{ rewards: [1, 2], references: [1], referenceOffsets: [0, 1, 1], options: { centered: true } }, 'references', 'E_VALUE'],
    [{ rewards: [1, 2], references: [1], referenceOffsets: [0, 1], options: {} }, 'referenceOffsets', 'E_SHAPE'],
    [{ rewards: [1, 2], options: { lengthPenalty: true } }, 'lengths', 'E_VALUE'],
    [{ rewards: [1, 2], lengths: [1, -1] }, 'lengths[1]', 'E_RANGE'],
    [{ rewards: [1, 2], lengths: [1] }, 'lengths', 'E_SHAPE'],
    [{ rewards: [1, NaN], options: { meanstd: true } }, 'rewards[1]', 'E_VALUE'],
    [{ rewards: [1, 2], options: { sigmoid: 'yes' } }, 'options.sigmoid', 'E_VALUE'],
    [{ rewards: [1, 2], references: [0, 0], options: { par: true, sigmoid: true } }, 'options.sigmoid', 'E_VALUE'],
    [{ rewards: [1, 2], options: { ceil: NaN } }, 'options.ceil', 'E_VALUE'],
    [{ rewards: [1, 2], options: { maxRef: 0 } }, 'options.maxRef', 'E_VALUE'],
    [{ rewards: [1, 2], options: { k: Infinity } }, 'options.k', 'E_VALUE'],
    [{ rewards: [1, 2], stats: { n: 1 } }, 'stats', 'E_DTYPE'],
    [{ rewards: [1, 2], out: new Float64Array(2) }, 'out', 'E_DTYPE'],
  ];
  for (const [o, argument, code] of cases) {
    try { await shapeRewards(o as never); assert.unreachable(JSON.stringify(o)); } catch (e) {
      assert.instance(e, RewardkitError);
      assert.is((e as RewardkitError).argument, argument, JSON.stringify(o));
      assert.is((e as RewardkitError).code, code, JSON.stringify(o));
    }
  }
});

test('a failed call leaves the running stats untouched', async () => {
  const stats = new RunningStats();
  await shapeRewards({ rewards: [1, 2, 3], options: { meanstd: true }, stats, backend: 'js' });
  const before = stats.state();
  try { await shapeRewards({ rewards: [1, NaN], options: { meanstd: true }, stats, backend: 'js' }); } catch { /* expected */ }
  assert.equal(stats.state(), before);
});

const fuzzBackends: Concrete[] = ['js', ...(native.available ? ['native' as const] : []), ...(gpu.available ? ['webgpu' as const] : [])];
const fuzzOptions = fc.integer({ min: 0, max: 6 }).chain((B) => fc.record({
  rewards: fc.oneof({ arbitrary: fc.array(fc.oneof(fc.double({ min: -1e6, max: 1e6, noNaN: true }), fc.constant(NaN)), { minLength: B, maxLength: B }), weight: 4 }, { arbitrary: fc.constant('bad'), weight: 1 }),
  references: fc.oneof(fc.array(fc.double({ min: -10, max: 10, noNaN: true }), { minLength: 2 * B, maxLength: 2 * B }), fc.constant(undefined)),
  lengths: fc.oneof(fc.array(fc.integer({ min: -1, max: 900 }), { minLength: B, maxLength: B }), fc.constant(undefined)),
  options: fc.record({
    par: fc.boolean(), centered: fc.boolean(), sgfc: fc.boolean(), meanstd: fc.boolean(), clipping: fc.boolean(), minmax: fc.boolean(), lsc: fc.boolean(),
    tanh: fc.constantFrom(true, false, 'relative', 'x'), ceil: fc.oneof(fc.constant(null), fc.double()), maxRef: fc.constantFrom(1, 10, 0),
  }, { requiredKeys: [] }),
}, { requiredKeys: ['rewards'] }));

for (const backend of fuzzBackends) {
  test(`fuzz ${backend}: 300 random inputs, zero crashes, only RewardkitErrors`, async () => {
    let accepted = 0;
    await fc.assert(fc.asyncProperty(fuzzOptions, async (o) => {
      try {
        const r = await shapeRewards({ ...(o as object), backend } as never);
        accepted++;
        return r.rewards instanceof Float32Array;
      } catch (e) {
        if (!(e instanceof RewardkitError)) throw e;
        return /Expected .+ but received |unavailable/.test(e.message);
      }
    }), { numRuns: 300, seed: 99 });
    console.log(`  ${backend}: ${accepted} of 300 inputs were valid and computed`);
  });
}

test.after(() => disposeDefaultContext());
test.run();
