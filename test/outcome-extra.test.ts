/**
 * processAdvantages and dynamicSamplingFilter on every backend against the JS reference, hand
 * values, errors, and a fast-check fuzz of malformed inputs for all three outcome-family ops.
 *
 * Tolerances: native mirrors the references operation for operation (bit-identical; compared at
 * rel 1e-6, abs 1e-7). WebGPU process advantages: the step normalisation is f32 with exact scaling
 * (a few ulps), and each token's value is an f32 running sum over its row, whose error is at most
 * n·2^-24·Σ|r̃| for a row of n tokens: abs 1e-6·(1 + Σ_row|r̃|)·n/16 covers it. The dynamic filter is
 * exact (row-level scores, and token-level ones built to sum exactly in f32).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fc from 'fast-check';
import {
  dynamicSamplingFilter, gpuStatus, nativeStatus, outcomeAdvantages, processAdvantages, RewardkitError,
  type ProcessOptions,
} from '../lib/index.js';
import { gauss, isCI, mismatch, randomLayout, rng } from './helpers.js';

const gpu = await gpuStatus();
const backends = ['js', ...(nativeStatus().available ? ['native'] : []), ...(gpu.available ? ['webgpu'] : [])] as Array<'js' | 'native' | 'webgpu'>;
if (isCI && backends.length < 3) test('every backend is available in CI', () => assert.unreachable(backends.join(', ')));

function makeProcess(rows: number, cols: number, seed: number, packed: boolean, emptyRows: boolean, mag = 1): ProcessOptions {
  const r = rng(seed);
  const { layout } = randomLayout(r, { rows, cols, packed, mask: 'u8', emptyRows });
  const offsets = layout.offsets ?? Uint32Array.from({ length: rows + 1 }, (_, i) => i * cols);
  const stepOffsets = new Uint32Array(rows + 1), ends: number[] = [], rewards: number[] = [];
  for (let i = 0; i < rows; i++) {
    const len = offsets[i + 1]! - offsets[i]!;
    const k = len === 0 ? 0 : Math.floor(r() * 5);
    for (let j = 0; j < k; j++) { ends.push(Math.floor(r() * len)); rewards.push((r() < 0.3 ? Math.round(r()) : gauss(r)) * mag); }
    stepOffsets[i + 1] = ends.length;
  }
  let G = Math.max(1, Math.min(rows, 1 + Math.floor(r() * 6)));
  while (rows % G) G--;
  return { ...layout, stepRewards: rewards, stepEnds: ends, stepOffsets, groups: { size: G } };
}

test('process advantages: hand example', async () => {
  // One group of two rows: steps (r=1 ends at 1, r=0 ends at 3) and (r=0.5 ends at 2); row 1 token 3 untrained.
  const options: ProcessOptions = {
    stepRewards: [1, 0, 0.5], stepEnds: [1, 3, 2], stepOffsets: [0, 2, 3],
    mask: Uint8Array.from([1, 1, 1, 1, 1, 1, 1, 0]), shape: [2, 4], groups: [7, 7],
  };
  const mean = 0.5, sd = 0.5; // Bessel std of [1, 0, 0.5]
  const z = [1, 0, 0.5].map((x) => (x - mean) / (sd + 1e-6));
  const want = [z[0]! + z[1]!, z[0]! + z[1]!, z[1]!, z[1]!, z[2]!, z[2]!, z[2]!, 0];
  for (const backend of backends) {
    const r = await processAdvantages({ ...options, backend });
    assert.is(mismatch(r.tokenAdvantages, want, 1e-6, 1e-7), '', backend);
    assert.is(mismatch(r.stepAdvantages, z, 1e-6, 1e-7), '', backend);
  }
});

test('process advantages: backends agree with js (sizes up to 300×130, packed, empty rows, ±2^100)', async () => {
  let seed = 1;
  for (const [B, T] of [[1, 1], [2, 3], [7, 5], [64, 33], [300, 130]] as const) for (const packed of [false, true]) for (const emptyRows of [false, true]) for (const mag of [1, 2 ** 100, 2 ** -100]) {
    const options = makeProcess(B, T, seed++, packed, emptyRows, mag);
    const ref = await processAdvantages({ ...options, backend: 'js' });
    for (const backend of backends.filter((b) => b !== 'js')) {
      if (backend === 'webgpu' && B * T > 10000 && mag !== 1) continue; // lavapipe: keep the large cases few
      const got = await processAdvantages({ ...options, backend });
      const abs = backend === 'native' ? 1e-7 : 1e-6 * (1 + Math.max(...Array.from(ref.stepAdvantages, Math.abs), 0) * 5) * Math.max(1, T / 16);
      const steps = mismatch(got.stepAdvantages, ref.stepAdvantages, backend === 'native' ? 1e-6 : 1e-5, backend === 'native' ? 1e-7 : 1e-6);
      assert.is(steps, '', `${backend} ${B}×${T} seed ${seed - 1} steps: ${steps}`);
      const tokens = mismatch(got.tokenAdvantages, ref.tokenAdvantages, 1e-5, abs);
      assert.is(tokens, '', `${backend} ${B}×${T} seed ${seed - 1} tokens: ${tokens}`);
    }
  }
  if (nativeStatus().available) { // ≥ 1M tokens
    const options = makeProcess(8192, 128, 99, false, true);
    const ref = await processAdvantages({ ...options, backend: 'js' });
    const got = await processAdvantages({ ...options, backend: 'native' });
    assert.is(mismatch(got.tokenAdvantages, ref.tokenAdvantages, 1e-6, 1e-7), '');
  }
});

test('process advantages: errors name the argument', async () => {
  const ok: ProcessOptions = { stepRewards: [1, 0], stepEnds: [0, 1], stepOffsets: [0, 1, 2], offsets: [0, 2, 4], groups: { size: 2 } };
  const cases: Array<[Partial<ProcessOptions>, string, string]> = [
    [{ stepEnds: [0, 2] }, 'E_RANGE', 'stepEnds[1]'],
    [{ stepEnds: [0] }, 'E_SHAPE', 'stepEnds'],
    [{ stepRewards: [1, NaN] }, 'E_VALUE', 'stepRewards[1]'],
    [{ stepOffsets: [0, 2] }, 'E_SHAPE', 'stepOffsets'],
    [{ stepOffsets: [0, 2, 1] }, 'E_VALUE', 'stepOffsets[2]'],
    [{ epsilon: NaN }, 'E_VALUE', 'epsilon'],
    [{ groups: [0] }, 'E_SHAPE', 'groups'],
  ];
  for (const [extra, code, argument] of cases) for (const backend of backends) {
    try { await processAdvantages({ ...ok, ...extra, backend }); assert.unreachable(argument); } catch (e: any) {
      assert.ok(e instanceof RewardkitError, e.message); assert.is(e.code, code, argument); assert.is(e.argument, argument);
    }
  }
});

test('dynamic sampling: verl keeps groups whose scores differ, and groups of one', async () => {
  const scores = [1, 1, 1, 0, 1, 1, 0.5, 0.5, 0.5, 3];
  const groups = [0, 0, 0, 1, 1, 1, 2, 2, 2, 3];
  for (const backend of backends) {
    const r = await dynamicSamplingFilter({ scores, groups, backend });
    assert.equal(Array.from(r.keptRows), [3, 4, 5, 9], backend);
    assert.is(r.keptGroups, 2, backend);
    assert.equal(Array.from(r.groupKept), [0, 1, 0, 1], backend);
    const strict = await dynamicSamplingFilter({ scores, groups, keepSingletons: false, backend });
    assert.equal(Array.from(strict.keptRows), [3, 4, 5], backend);
    // Token-level rewards are summed per row (every token, as verl's seq_final_reward).
    const tok = await dynamicSamplingFilter({ scores: [1, 0, 0, 1, 0.5, 0.5, 1, 1], mask: Uint8Array.from([1, 1, 1, 1, 1, 1, 1, 0]), shape: [4, 2], groups: { size: 2 }, backend });
    assert.equal(Array.from(tok.keptRows), [2, 3], backend);
  }
});

test('dynamic sampling: backends agree with js on random batches', async () => {
  for (let seed = 1; seed <= 40; seed++) {
    const r = rng(seed);
    const B = 1 + Math.floor(r() * 400), G = 1 + Math.floor(r() * 16);
    const labels = Array.from({ length: B }, () => Math.floor(r() * Math.max(1, B / G)));
    const scores = labels.map((g) => (g % 3 === 0 ? g : Math.round(r() * 2) / 4));
    const ref = await dynamicSamplingFilter({ scores, groups: labels, backend: 'js' });
    for (const backend of backends.filter((b) => b !== 'js')) {
      const got = await dynamicSamplingFilter({ scores, groups: labels, backend, keepSingletons: true });
      assert.equal(Array.from(got.keptRows), Array.from(ref.keptRows), `${backend} seed ${seed}`);
      assert.is(got.keptGroups, ref.keptGroups);
    }
  }
});

test('dynamic sampling: errors', async () => {
  for (const backend of backends) {
    for (const [options, code, argument] of [
      [{ scores: [1, NaN], groups: [0, 0] }, 'E_VALUE', 'scores[1]'],
      [{ scores: [1, 2], groups: [0] }, 'E_SHAPE', 'groups'],
      [{ scores: [1, 2], groups: [0, 0], keepSingletons: 1 }, 'E_VALUE', 'keepSingletons'],
      [{ scores: [], groups: [] }, 'E_SHAPE', 'scores'],
      [{ scores: [1, Infinity, 0, 0], mask: Uint8Array.from([1, 0, 1, 1]), shape: [2, 2], groups: { size: 2 } }, 'E_VALUE', 'scores (tokens of row 0, all summed as verl does; sumMasked: true skips padding)'],
    ] as const) {
      try { await dynamicSamplingFilter({ ...(options as any), backend }); assert.unreachable(argument); } catch (e: any) {
        assert.ok(e instanceof RewardkitError, e.message); assert.is(e.code, code, argument); assert.is(e.argument, argument, backend);
      }
    }
  }
});

// ---- fuzz: malformed and edge inputs give results or RewardkitErrors, never crashes -------------

const num = fc.oneof(fc.integer({ min: -3, max: 12 }), fc.double(), fc.constantFrom(NaN, Infinity, -Infinity, 0.5, -0, 2 ** 32));
const ints = fc.array(fc.integer({ min: -2, max: 10 }), { maxLength: 16 });
const anything = fc.oneof(fc.constant(undefined), fc.constant(null), fc.string(), num, fc.boolean(), fc.object());
const floats = fc.oneof(fc.array(num, { maxLength: 16 }), fc.array(num, { maxLength: 16 }).map((a) => Float32Array.from(a)), anything);
const indexes = fc.oneof(ints, ints.map((a) => [0, ...a.map(Math.abs).sort((x, y) => x - y)]), ints.map((a) => Uint32Array.from(a.map(Math.abs))), anything);
const common = {
  mask: fc.oneof(fc.array(fc.integer({ min: 0, max: 2 }), { maxLength: 16 }).map((a) => Uint8Array.from(a)), fc.array(num, { maxLength: 16 }).map((a) => Float32Array.from(a)), anything),
  shape: fc.oneof(fc.tuple(fc.integer({ min: 0, max: 5 }), fc.integer({ min: 0, max: 5 })), anything),
  offsets: indexes,
  groups: fc.oneof(ints, fc.record({ size: num }), anything),
  backend: fc.constantFrom(...backends),
};

async function noCrash(run: () => Promise<unknown>): Promise<void> {
  try { await run(); } catch (e) { if (!(e instanceof RewardkitError)) throw e; }
}

test('fuzz: outcomeAdvantages, processAdvantages, dynamicSamplingFilter never crash (300 runs each)', async () => {
  await fc.assert(fc.asyncProperty(fc.record({
    ...common, scores: floats, estimator: fc.oneof(fc.constantFrom('grpo', 'grpo_vectorized', 'group_norm', 'rloo', 'rloo_vectorized', 'reinforce_plus_plus_baseline', 'gpg', 'opo', 'grpo_passk', 'trl_grpo', 'x'), anything),
    scoreLevel: fc.oneof(fc.constantFrom('row', 'token'), anything), normByStd: fc.oneof(fc.boolean(), anything), epsilon: fc.oneof(num, anything),
  }, { requiredKeys: ['backend'] }), (o) => noCrash(() => outcomeAdvantages(o as any))), { numRuns: 300 });
  await fc.assert(fc.asyncProperty(fc.record({
    ...common, stepRewards: floats, stepEnds: indexes, stepOffsets: indexes, epsilon: fc.oneof(num, anything),
  }, { requiredKeys: ['backend'] }), (o) => noCrash(() => processAdvantages(o as any))), { numRuns: 300 });
  await fc.assert(fc.asyncProperty(fc.record({
    ...common, scores: floats, keepSingletons: fc.oneof(fc.boolean(), anything), scoreLevel: fc.oneof(fc.constantFrom('row', 'token'), anything),
  }, { requiredKeys: ['backend'] }), (o) => noCrash(() => dynamicSamplingFilter(o as any))), { numRuns: 300 });
});

test.run();
