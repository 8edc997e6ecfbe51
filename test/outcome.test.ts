/**
 * outcomeAdvantages: every estimator × backend against the JS reference, on random inputs of many
 * shapes and the edge cases (groups of one, all-equal groups, empty rows, NaN/Inf on padding,
 * 2^±100 scores, u8/f32/i32 masks, packed offsets), hand-computed values, registry and errors.
 *
 * Tolerances and why:
 * - native: rel 1e-6, abs 1e-7 (×|s| for estimators in score units). It repeats the reference's f64
 *   operations in the same order (bit-identical), except reinforce++-baseline, which sums L_i·a_i per
 *   row instead of a_i per token: a last-bit f64 difference, invisible after rounding to f32 but
 *   allowed one f32 ulp here.
 * - webgpu: rel 1e-5, abs 1e-6 (×|s| for estimators in score units: rloo, opo, gpg, un-normalised
 *   grpo_vectorized and grpo_passk, whose results carry the scores' magnitude). WGSL computes in
 *   f32 with exact power-of-two scaling and a shift by the group's first score, so its error is a
 *   few f32 ulps of each intermediate (~1e-6 relative), and token-level row sums are f32 tree sums
 *   (~1e-7 relative). reinforce++-baseline divides by the batch std: abs 1e-5 there.
 * - the 'tiny' case (2^-100 scores): normalised estimators have ε ≫ std, results ~1e-24, so any
 *   backend's value is within abs 1e-6 of 0 like the reference's.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createContext, gpuStatus, nativeStatus, outcomeAdvantages, outcomeEstimators, registerOutcomeEstimator, RewardkitError, type GpuContext, type OutcomeOptions } from '../lib/index.js';
import { gauss, isCI, mismatch, randomLayout, rng } from './helpers.js';

const BUILTIN = ['grpo', 'dr_grpo', 'trl_grpo', 'grpo_vectorized', 'group_norm', 'rloo', 'rloo_vectorized', 'reinforce_plus_plus_baseline', 'gpg', 'opo', 'grpo_passk'] as const;
const SCORE_UNITS = new Set(['dr_grpo', 'rloo', 'rloo_vectorized', 'gpg', 'opo']);
type Special = 'random' | 'singletons' | 'allEqual' | 'emptyRows' | 'nanPad' | 'huge' | 'tiny';
const SPECIALS: Special[] = ['random', 'singletons', 'allEqual', 'emptyRows', 'nanPad', 'huge', 'tiny'];

interface Spec { rows: number; cols: number; layout: 'u8' | 'f32' | 'i32' | 'packed'; tokenScores: boolean; labels: boolean; special: Special; minGroup: number }

/** A random outcome problem; groups of at least `minGroup` rows unless the case is about singletons. */
function makeOutcome(s: Spec, seed: number): OutcomeOptions {
  const r = rng(seed);
  const B = s.rows;
  let G = s.special === 'singletons' ? 1 : Math.max(s.minGroup, Math.min(B, 1 + Math.floor(r() * 8)));
  while (B % G) G++;
  const { layout, lens } = randomLayout(r, { rows: B, cols: s.cols, packed: s.layout === 'packed', mask: s.layout === 'packed' ? 'u8' : s.layout, emptyRows: s.special === 'emptyRows' });
  // Powers of two and 2^-10-grained shaping keep every token-level row sum exact in f32 in any order,
  // so backends that sum in a different order (WGSL tree sums) see the same row scores.
  const mag = s.special === 'huge' ? 2 ** 100 : s.special === 'tiny' ? 2 ** -100 : 1;
  const row = Float32Array.from({ length: B }, () => (s.special === 'allEqual' ? 0.7 : r() < 0.5 ? Math.round(r()) : Math.round(gauss(r) * 1024) / 1024) * mag);
  const options: OutcomeOptions = { ...layout, scores: row, groups: { size: G }, scoreLevel: 'row' };
  if (s.labels) {
    const labels = Array.from({ length: B }, (_, i) => Math.floor(i / G) * 5 + 2);
    for (let i = B - 1; i > 0; i--) { const j = Math.floor(r() * (i + 1)); [labels[i], labels[j]] = [labels[j]!, labels[i]!]; }
    options.groups = Int32Array.from(labels);
  }
  if (s.tokenScores || s.special === 'nanPad') {
    const offsets = layout.offsets ?? Uint32Array.from({ length: B + 1 }, (_, i) => i * s.cols);
    const tok = new Float32Array(offsets[B]!);
    for (let i = 0; i < B; i++) {
      const last = layout.offsets ? offsets[i + 1]! - 1 : offsets[i]! + Math.max(0, lens[i]! - 1);
      if (last >= offsets[i]!) tok[last] = row[i]!;
      if (s.special !== 'allEqual') for (let t = offsets[i]!; t < offsets[i]! + lens[i]!; t++) if (r() < 0.05) tok[t] += (Math.round(10 * gauss(r)) / 1024) * mag;
    }
    if (s.special === 'nanPad' && layout.mask) for (let t = 0; t < tok.length; t++) if (!layout.mask[t] && r() < 0.5) tok[t] = r() < 0.5 ? NaN : Infinity;
    options.scores = tok;
    options.scoreLevel = 'token';
    if (s.special === 'nanPad') options.sumMasked = true;
  }
  return options;
}

/** Both runs give the same numbers, or both raise the same error code. */
async function agree(options: OutcomeOptions, backend: 'native' | 'webgpu', rel: number, abs: number, context?: GpuContext): Promise<void> {
  let ref, got;
  try { ref = await outcomeAdvantages({ ...options, backend: 'js' }); } catch (e) {
    try { await outcomeAdvantages({ ...options, backend, ...(context ? { context } : {}) }); } catch (f) {
      assert.is((f as RewardkitError).code, (e as RewardkitError).code);
      assert.is((f as RewardkitError).argument, (e as RewardkitError).argument);
      return;
    }
    throw new Error(`js raised ${(e as Error).message} but ${backend} did not`);
  }
  got = await outcomeAdvantages({ ...options, backend, ...(context ? { context } : {}) });
  assert.is(got.backend, backend);
  const rows = mismatch(got.rowAdvantages, ref.rowAdvantages, rel, abs);
  assert.is(rows, '', `rows: ${rows}`);
  const tokens = mismatch(got.tokenAdvantages, ref.tokenAdvantages, rel, abs);
  assert.is(tokens, '', `tokens: ${tokens}`);
}

function tolerance(backend: 'native' | 'webgpu', estimator: string, special: Special, normByStd: boolean): [number, number] {
  const mag = special === 'huge' ? 2 ** 100 : special === 'tiny' ? 2 ** -100 : 1;
  const units = SCORE_UNITS.has(estimator) || (!normByStd && (estimator === 'grpo_vectorized' || estimator === 'grpo_passk'));
  if (backend === 'native') return [1e-6, units ? Math.max(1e-7 * mag, 1e-7) : 1e-7];
  if (estimator === 'reinforce_plus_plus_baseline') return [1e-5, 1e-5];
  return [1e-5, units ? Math.max(1e-6 * mag, 1e-6) : 1e-6];
}

function suite(backend: 'native' | 'webgpu', sizes: Array<[number, number]>): void {
  let seed = 1000;
  for (const estimator of BUILTIN) {
    test(`${backend}: ${estimator} agrees with js (${sizes.map((s) => s.join('×')).join(', ')}; every edge case and layout)`, async () => {
      const needsPairs = estimator === 'grpo_passk' || estimator === 'group_norm';
      for (const [rows, cols] of sizes) for (const special of SPECIALS) for (const layout of ['u8', 'f32', 'i32', 'packed'] as const) {
        if (needsPairs && (special === 'singletons' || rows < 2)) continue;
        for (const normByStd of estimator === 'grpo_vectorized' || estimator === 'grpo_passk' ? [true, false] : [true]) {
          const s = seed++;
          const spec: Spec = { rows, cols, layout, tokenScores: s % 2 === 0, labels: s % 3 !== 0, special, minGroup: needsPairs ? 2 : 1 };
          const [rel, abs] = tolerance(backend, estimator, special, normByStd);
          const options: OutcomeOptions = { ...makeOutcome(spec, s), estimator, ...(estimator.includes('grpo') && estimator !== 'trl_grpo' && estimator !== 'dr_grpo' ? { normByStd } : {}) };
          try { await agree(options, backend, rel, abs); } catch (e) { throw new Error(`${estimator} ${JSON.stringify(spec)} norm=${normByStd} (seed ${s}): ${(e as Error).message}`); }
        }
      }
    });
  }
}

// ---- hand-computed values ------------------------------------------------------------------------

const hand: Array<[string, number[], number, Partial<OutcomeOptions>, number[]]> = [
  // rloo: s − mean of the others; rloo_vectorized the same except a group of one → 0.
  ['rloo', [1, 0, 1, 1, 5], 0, {}, [1 / 3, -1, 1 / 3, 1 / 3, 5]],
  ['rloo_vectorized', [1, 0, 1, 1, 5], 0, {}, [1 / 3, -1, 1 / 3, 1 / 3, 0]],
  // gpg: α = 5 rows / 4 nonzero scores; a group of one keeps s (mean 0).
  ['gpg', [1, 0, 1, 1, 5], 0, {}, [0.3125, -0.9375, 0.3125, 0.3125, 6.25]],
  ['gpg', [1, 0, 1, 1, 5], 0, { fNorm: 2 }, [0.15625, -0.46875, 0.15625, 0.15625, 3.125]],
  // grpo_vectorized: a group of one → (0, 1); var floored at ε.
  ['grpo_vectorized', [1, 0, 1, 1, 5], 0, {}, [0.25 / (0.5 + 1e-6), -0.75 / (0.5 + 1e-6), 0.25 / (0.5 + 1e-6), 0.25 / (0.5 + 1e-6), 5 / (1 + 1e-6)]],
  ['grpo_passk', [1, 0, 1, 0.5, 2, 2], 1, { normByStd: false }, [0, 0, 0, 0, 0, 0]],
  ['grpo_passk', [1, 0, 0.25, 0.5, 2, 3], 1, { normByStd: false }, [0.75, 0, 0, 0, 0, 1]],
  ['group_norm', [1, 0, 1, 1], 0, {}, [0.25 / (0.5 + 1e-9), -0.75 / (0.5 + 1e-9), 0.25 / (0.5 + 1e-9), 0.25 / (0.5 + 1e-9)]],
  // 127 zeros and one 1000: the zeros' z-score is −1/sqrt(128); the outlier's, 127/sqrt(128) ≈ 11.2, is clamped to 10.
  ['group_norm', [...Array.from({ length: 127 }, () => 0), 1000], 2, {}, [-1 / Math.sqrt(128), 10]],
];

test('hand-computed values on every backend', async () => {
  const backends = ['js', ...(nativeStatus().available ? ['native'] : []), ...((await gpuStatus()).available ? ['webgpu'] : [])] as const;
  for (const [estimator, s, groups, extra, want] of hand) {
    const B = s.length;
    const labels = groups === 0 ? [0, 0, 0, 0, 1].slice(0, B) : groups === 1 ? [0, 0, 0, 1, 1, 1] : Array.from({ length: B }, () => 0);
    for (const backend of backends) {
      const r = await outcomeAdvantages({ estimator, scores: s, offsets: Uint32Array.from({ length: B + 1 }, (_, i) => i), groups: labels, backend: backend as 'js', ...extra });
      const got = groups === 2 ? [r.rowAdvantages[0]!, r.rowAdvantages[B - 1]!] : Array.from(r.rowAdvantages);
      const bad = mismatch(got, want.map(Math.fround), 1e-6, 1e-7);
      assert.is(bad, '', `${estimator} ${JSON.stringify(extra)} on ${backend}: ${bad}`);
    }
  }
});

test('opo: length-weighted baseline, a group of one keeps s, an all-empty group gives NaN rows (0 on tokens)', async () => {
  // Rows of 1, 3 and 0 trained tokens in group 0; group 1 is one row; group 2 two empty rows.
  const mask = Uint8Array.from([1, 0, 0, 1, 1, 1, 0, 0, 0, 1, 1, 0, 0, 0, 0, 0, 0, 0]);
  const options: OutcomeOptions = { estimator: 'opo', scores: [2, 1, 5, 4, 3, 1], mask, shape: [6, 3], groups: [0, 0, 0, 1, 2, 2], scoreLevel: 'row' };
  const b = (1 * 2 + 3 * 1 + 0 * 5) / 4;
  for (const backend of ['js', ...(nativeStatus().available ? ['native'] : []), ...((await gpuStatus()).available ? ['webgpu'] : [])]) {
    const r = await outcomeAdvantages({ ...options, backend: backend as 'js' });
    const want = [2 - b, 1 - b, 5 - b, 4, NaN, NaN];
    assert.is(mismatch(r.rowAdvantages, want, 1e-6, 1e-7), '', backend);
    assert.equal(Array.from(r.tokenAdvantages.subarray(12)), [0, 0, 0, 0, 0, 0], backend);
  }
});

test('reinforce_plus_plus_baseline whitens s − mean_g over every trained token of the batch', async () => {
  const s = [1, 0, 1, 1, 0.5, 0.25], mask = Uint8Array.from([1, 1, 0, 1, 0, 0, 1, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 1]);
  const r = await outcomeAdvantages({ estimator: 'reinforce_plus_plus_baseline', scores: s, mask, shape: [6, 3], groups: { size: 3 }, scoreLevel: 'row', backend: 'js' });
  const a = [1 - 2 / 3, -2 / 3, 1 - 2 / 3, 1 - 7 / 12, 0.5 - 7 / 12, 0.25 - 7 / 12];
  const vals: number[] = [];
  for (let t = 0; t < 18; t++) if (mask[t]) vals.push(a[Math.floor(t / 3)]!);
  const mean = vals.reduce((x, y) => x + y) / vals.length;
  const sd = Math.sqrt(vals.reduce((x, y) => x + (y - mean) ** 2, 0) / (vals.length - 1));
  assert.is(mismatch(r.rowAdvantages, a.map((v) => (v - mean) / sd), 1e-6, 1e-7), '');
  assert.is(r.tokenAdvantages[2], 0);
});

test('registry: names, unknown names, duplicates, presets, custom estimators', async () => {
  const names = outcomeEstimators();
  for (const n of BUILTIN) assert.ok(names.includes(n), n);
  try { await outcomeAdvantages({ estimator: 'nope', scores: [1], offsets: [0, 1], groups: [0] }); assert.unreachable(); } catch (e: any) {
    assert.is(e.code, 'E_VALUE'); assert.is(e.argument, 'estimator'); assert.match(e.message, /'grpo_passk'/);
  }
  try { registerOutcomeEstimator('grpo', () => []); assert.unreachable(); } catch (e: any) { assert.is(e.code, 'E_VALUE'); assert.is(e.argument, 'name'); }
  registerOutcomeEstimator('test_centre', ({ scores, groupIds, numGroups }) => {
    const sum = new Float64Array(numGroups), n = new Float64Array(numGroups);
    scores.forEach((x, i) => { sum[groupIds[i]!] += x; n[groupIds[i]!]++; });
    return scores.map((x, i) => x - sum[groupIds[i]!]! / n[groupIds[i]!]!);
  });
  const r = await outcomeAdvantages({ estimator: 'test_centre', scores: [1, 3, 10], offsets: [0, 2, 3, 4], groups: [0, 0, 1], backend: nativeStatus().available ? 'native' : 'js' });
  assert.is(r.backend, 'js');
  assert.equal(Array.from(r.rowAdvantages), [-1, 1, 0]);
  assert.equal(Array.from(r.tokenAdvantages), [-1, -1, 1, 0]);
  // Presets pick the default estimator.
  const opts: OutcomeOptions = { scores: [1, 0, 1, 1], offsets: [0, 1, 2, 3, 4], groups: { size: 4 } };
  assert.is((await outcomeAdvantages({ ...opts })).estimator, 'grpo');
  assert.is((await outcomeAdvantages({ ...opts, preset: 'trl' })).estimator, 'trl_grpo');
  const on = await outcomeAdvantages({ ...opts, preset: 'openrlhf' });
  assert.is(on.estimator, 'group_norm');
  assert.is(on.rowAdvantages[1], Math.fround(-0.75 / (0.5 + 1e-9)));
  // grpo delegates: dr_grpo has no std, trl_grpo uses TRL's ε = 1e-4.
  assert.equal(Array.from((await outcomeAdvantages({ ...opts, estimator: 'dr_grpo' })).rowAdvantages), [0.25, -0.75, 0.25, 0.25]);
  assert.is((await outcomeAdvantages({ ...opts, estimator: 'trl_grpo' })).rowAdvantages[1], Math.fround(-0.75 / (0.5 + 1e-4)));
});

test('packed layout with a mask: delegated grpo zeroes untrained tokens and sums trained ones only when asked', async () => {
  const base: OutcomeOptions = { scores: [1, 5, 2, 0, 3, 1], offsets: [0, 2, 4, 6], mask: Uint8Array.from([1, 0, 1, 1, 0, 1]), groups: { size: 3 }, scoreLevel: 'token' };
  const all = await outcomeAdvantages({ ...base, estimator: 'dr_grpo', backend: 'js' });
  assert.equal(Array.from(all.rowAdvantages), [6 - 4, 2 - 4, 4 - 4]); // every token summed: 6, 2, 4
  assert.equal(Array.from(all.tokenAdvantages), [2, 0, -2, -2, 0, 0]);
  const masked = await outcomeAdvantages({ ...base, estimator: 'dr_grpo', sumMasked: true, backend: 'js' });
  assert.is(mismatch(masked.rowAdvantages, [1 - 4 / 3, 2 - 4 / 3, 1 - 4 / 3], 1e-6, 1e-7), ''); // trained only: 1, 2, 1
});

test('errors name the argument', async () => {
  const ok: OutcomeOptions = { scores: [1, 0, 1, 1], offsets: [0, 1, 2, 3, 4], groups: { size: 2 } };
  const cases: Array<[Partial<OutcomeOptions>, string, string]> = [
    [{ estimator: 'grpo_passk', groups: [0, 0, 1, 2] }, 'E_VALUE', 'groups'],
    [{ estimator: 'group_norm', groups: [0, 0, 0, 1] }, 'E_VALUE', 'groups'],
    [{ estimator: 'reinforce_plus_plus_baseline', offsets: [0, 1, 1, 1, 1] }, 'E_VALUE', 'mask'],
    [{ estimator: 'rloo', scores: [1, NaN, 0, 0] }, 'E_VALUE', 'scores[1]'],
    [{ estimator: 'rloo', epsilon: -1 }, 'E_VALUE', 'epsilon'],
    [{ estimator: 'gpg', fNorm: 0 }, 'E_VALUE', 'fNorm'],
    [{ estimator: 'group_norm', clip: -1 }, 'E_VALUE', 'clip'],
    [{ estimator: 'opo', normByStd: 1 as unknown as boolean }, 'E_VALUE', 'normByStd'],
    [{ estimator: 'rloo', scale: 'batch' }, 'E_VALUE', 'scale'],
    [{ estimator: 'rloo', scores: [1, 2, 3] }, 'E_SHAPE', 'scores'],
    [{ estimator: 'opo', groups: [0, 1] }, 'E_SHAPE', 'groups'],
    [{ estimator: 'opo', out: { rowAdvantages: new Float32Array(3) } }, 'E_SHAPE', 'out.rowAdvantages'],
    [{ estimator: 'rloo', backend: 'gpu' as 'js' }, 'E_VALUE', 'backend'],
    [{ preset: 'x' as 'verl' }, 'E_VALUE', 'preset'],
  ];
  const backends = ['js', ...(nativeStatus().available ? ['native'] : []), ...((await gpuStatus()).available ? ['webgpu'] : [])];
  for (const [extra, code, argument] of cases) for (const backend of backends) {
    try { await outcomeAdvantages({ ...ok, backend: backend as 'js', ...extra } as OutcomeOptions); assert.unreachable(`${argument} on ${backend}`); } catch (e: any) {
      assert.ok(e instanceof RewardkitError, `${argument} on ${backend}: ${e.message}`);
      assert.is(e.code, code, `${argument} on ${backend}: ${e.message}`);
      assert.is(e.argument, argument, `${argument} on ${backend}: ${e.message}`);
    }
  }
  // A token-level row sum that is not finite (NaN on padding, summed as verl does) on every backend.
  for (const backend of backends) {
    try { await outcomeAdvantages({ estimator: 'rloo', scores: [1, NaN, 2, 3], mask: Uint8Array.from([1, 0, 1, 1]), shape: [2, 2], groups: { size: 2 }, backend: backend as 'js' }); assert.unreachable(); } catch (e: any) {
      assert.is(e.code, 'E_VALUE'); assert.match(e.message, /row 0/);
    }
  }
});

const sizes: Array<[number, number]> = [[1, 1], [2, 3], [7, 5], [64, 33], [300, 130]];
if (nativeStatus().available) {
  suite('native', sizes);
  test('native: 1,048,576 tokens (8,192 × 128) for every estimator', async () => {
    for (const [k, estimator] of BUILTIN.entries()) {
      const options = { ...makeOutcome({ rows: 8192, cols: 128, layout: k % 2 ? 'packed' : 'u8', tokenScores: true, labels: true, special: 'random', minGroup: 2 }, 77 + k), estimator };
      await agree(options, 'native', 1e-6, SCORE_UNITS.has(estimator) ? 1e-6 : 1e-7);
    }
  });
} else if (isCI) test('native addon is available in CI', () => assert.unreachable(nativeStatus().reason));

const gpu = await gpuStatus();
if (gpu.available) {
  suite('webgpu', sizes.slice(0, 4));
  test('webgpu: split bindings (64 KiB cap) agree for every estimator', async () => {
    const small = await createContext({ maxBindingSize: 64 * 1024 });
    try {
      for (const [k, estimator] of BUILTIN.entries()) {
        const [rel, abs] = tolerance('webgpu', estimator, 'random', true);
        await agree({ ...makeOutcome({ rows: 300, cols: 130, layout: k % 2 ? 'packed' : 'f32', tokenScores: true, labels: true, special: 'random', minGroup: 2 }, 300 + k), estimator }, 'webgpu', rel, abs, small);
      }
    } finally { small.dispose(); }
  });
} else if (isCI) test('webgpu is available in CI', () => assert.unreachable(gpu.reason));

test.run();
