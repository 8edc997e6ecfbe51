/**
 * Process rewards and potential shaping: aggregateSteps, clipDelta, bestOfN, weightedVote,
 * potentialShaping and dopamineProgress. The JS reference against the conformance vectors (OpenR
 * selection, Robo-Dopamine progress) and hand-worked AReaL Clip/Delta, then native and WebGPU against
 * it on ragged shapes and edge cases (empty step lists, NaN, ties, huge values), binding splits,
 * typed errors and a fuzz.
 *
 * Tolerances (|a − e| <= abs + rel·|e|; NaN must match NaN, ±inf exactly):
 * - conformance: exact for selection and voting (tolerance 0 in prm.json); progress rel 1e-7 (the
 *   JS recurrence is f64 on f32 hops and returns f32: 2^-24).
 * - native vs JS: exact (rel 0, abs 0) — the same f64 (aggregation, PBRS, progress) or f32
 *   (Clip/Delta, as AReaL's torch.float) operations in the same order (checked bit for bit, −0
 *   included, in one test); the vector log/exp of geometricMean and meanLogit are within 1–2 f64 ulp
 *   of libm (V8's may differ from libm by an ulp too), far below the f32 rounding, so rel 1e-7 is
 *   allowed for those two methods.
 * - WebGPU vs JS: rel 1e-5, abs 1e-6·scale — f32 sums of up to ~100 steps (prod, mean, log-based
 *   means: ~n·2^-24 relative), WGSL exp/log a few ulp; Clip's mean is an f32 sum, so a step equal to
 *   the mean up to rounding may land on the other side of η (the tests avoid exact ties with η except
 *   for all-equal lists, which are exact). The progress recurrence in f32: rel 1e-5 over ≤ 200 steps.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fc from 'fast-check';
import {
  aggregateSteps, bestOfN, clipDelta, createContext, disposeDefaultContext, dopamineProgress, gpuStatus, nativeStatus, potentialShaping,
  RewardkitError, weightedVote, type GpuContext,
} from '../lib/index.js';
import { stepAggregations, type StepAggregation } from '../lib/scoring/prm.js';
import { loadNative } from '../lib/backends/native.js';
import { fixture, gauss, isCI, mismatch, rng } from './helpers.js';

type Concrete = 'js' | 'native' | 'webgpu';
const csr = (lists: number[][]) => { const o = [0]; for (const l of lists) o.push(o[o.length - 1]! + l.length); return Uint32Array.from(o); };

// ---------------------------------------------------------------------------------------------
// Conformance and hand-worked cases.

test('conformance: OpenR best-of-N selection and voting (prm.json)', async () => {
  for (const c of fixture('conformance/scoring/prm.json').cases) {
    const answers: string[] = c.inputs.answers, steps: number[][] = c.inputs.step_scores, orm: number[] = c.inputs.orm_scores;
    const groups = { size: answers.length };
    const agg = async (method: StepAggregation) => (await aggregateSteps({ stepScores: steps.flat(), stepOffsets: csr(steps), method, emptyValue: -1, backend: 'js' })).scores;
    const pick = (scores: ArrayLike<number>) => answers[bestOfN({ scores: Array.from(scores), groups })[0]!];
    const vote = (weights?: ArrayLike<number>) => weightedVote<string>({ answers, groups, ...(weights ? { weights: Array.from(weights) } : {}) })[0]!.answer;
    const got = {
      majority_vote: vote(), prm_min_max: pick(await agg('min')), prm_last_max: pick(await agg('last')),
      prm_min_vote: vote(await agg('min')), prm_last_vote: vote(await agg('last')), orm_max: pick(orm), orm_vote: vote(orm),
    };
    assert.equal(got, c.outputs, c.id);
  }
});

test('conformance: Robo-Dopamine hop → progress, every mode (shaping_pbrs.json)', async () => {
  for (const c of fixture('conformance/scoring/shaping_pbrs.json').cases) {
    const hops: number[] = c.inputs.hops, offsets = [0, hops.length];
    const run = async (o: object) => (await dopamineProgress({ hops, offsets, backend: 'js', ...o })).progress;
    assert.is(mismatch(await run({}), c.outputs.incremental_api, 1e-7, 1e-12), '', 'incremental_api');
    assert.is(mismatch(await run({ rawFirst: true }), c.outputs.incremental_infer, 1e-7, 1e-12), '', 'incremental_infer');
    assert.is(mismatch(await run({ mode: 'forward' }), c.outputs.forward, 1e-7, 1e-12), '', 'forward');
    assert.is(mismatch(await run({ mode: 'backward' }), c.outputs.backward, 1e-7, 1e-12), '', 'backward');
  }
  const inv = await dopamineProgress({ hops: [0.5, -0.5], offsets: [0, 2], inverse: true, backend: 'js' });
  assert.equal(Array.from(inv.progress), [0.75, 0.5]); // walked backward from 1: 1 − 0.5 = 0.5, then 0.5 + 0.5·0.5
});

test('AReaL Clip and Delta by hand; the success reward overwrites the last slot', async () => {
  const v = [0.9, 0.5, 0.1, 0.3]; // η = 0.45
  const f = Math.fround;
  const clipOnly = await clipDelta({ stepScores: v, stepOffsets: [0, 4], delta: false, backend: 'js' });
  const clipped = [0, 0, f(f(0.1) - f(0.45)), f(f(0.3) - f(0.45))];
  assert.equal(Array.from(clipOnly.rewards), clipped);
  const both = await clipDelta({ stepScores: v, stepOffsets: [0, 4], successReward: [1], backend: 'js' });
  assert.equal(Array.from(both.rewards), [f(clipped[0]! - clipped[1]!), f(clipped[1]! - clipped[2]!), clipped[2]!, 1]);
  const one = await clipDelta({ stepScores: [0.7, 0.2, 0.8], stepOffsets: [0, 1, 1, 3], clip: false, backend: 'js' });
  assert.equal(Array.from(one.rewards), [0, f(0.2), 0]); // K=1 → [0]; K=2 → [v0, 0]; the empty list has no slot
  const nan = await clipDelta({ stepScores: [NaN, 0.5], stepOffsets: [0, 2], delta: false, backend: 'js' });
  assert.ok(Number.isNaN(nan.rewards[0]!) && nan.rewards[1] === 0.5); // η NaN: neither mask, values kept (torch)
});

test('aggregations by hand, empty lists, bestOfN ties and NaN, potential shaping', async () => {
  const steps = [[0.5, 0.8], [], [0.9]];
  const want: Record<StepAggregation, number[]> = {
    min: [0.5, 7, 0.9], max: [0.8, 7, 0.9], prod: [0.4, 7, 0.9], geometricMean: [Math.sqrt(0.4), 7, 0.9], mean: [0.65, 7, 0.9],
    meanLogit: [1 / (1 + Math.exp(-(Math.log(1) + Math.log(4)) / 2)), 7, 0.9], meanOdds: [2.5, 7, 9], last: [0.8, 7, 0.9],
  };
  for (const method of stepAggregations) {
    const r = await aggregateSteps({ stepScores: steps.flat(), stepOffsets: csr(steps), method, emptyValue: 7, backend: 'js' });
    assert.is(mismatch(r.scores, want[method], 1e-6, 1e-7), '', method); // f32 inputs: p/(1−p) amplifies their rounding
  }
  assert.equal(Array.from(bestOfN({ scores: [1, 3, 3, NaN, 2, 2], groups: [5, 5, 5, 9, 9, 9] })), [1, 4]);
  assert.equal(Array.from(bestOfN({ scores: [NaN, NaN], groups: { size: 2 } })), [0]);
  assert.equal(weightedVote({ answers: [3, 1, 1, 3], weights: [1, 0.5, 0.5, 0], groups: { size: 4 } }), [{ answer: 3, weight: 1 }]); // tie → first seen
  // r' = r + γΦ(s') − Φ(s): with final states given, and with Φ(final) = 0.
  const a = await potentialShaping({ rewards: [1, 0, 2], offsets: [0, 2, 3], potentials: [0, 0.5, 1, 0.2, 0.7], gamma: 0.9, backend: 'js' });
  assert.is(mismatch(a.rewards, [1 + 0.45, 0.9 - 0.5, 2 + 0.63 - 0.2], 1e-7, 1e-7), '');
  const b = await potentialShaping({ rewards: [1, 0, 2], offsets: [0, 2, 3], potentials: [0, 0.5, 0.2], backend: 'js' });
  assert.is(mismatch(b.rewards, [1.5, -0.5, 1.8], 1e-7, 1e-7), '');
});

// ---------------------------------------------------------------------------------------------
// Backends against the reference.

type Special = 'random' | 'empty' | 'nan' | 'ties' | 'huge' | 'allEqual' | 'extremes';
function makeSteps(seed: number, B: number, maxLen: number, special: Special): { scores: Float32Array; offsets: Uint32Array } {
  const r = rng(seed);
  const offsets = new Uint32Array(B + 1);
  for (let i = 0; i < B; i++) offsets[i + 1] = offsets[i]! + (special === 'empty' && r() < 0.3 ? 0 : Math.floor(r() * (maxLen + 1)));
  const scores = Float32Array.from({ length: offsets[B]! }, () => {
    if (special === 'ties') return Math.round(r() * 4) / 4;
    if (special === 'allEqual') return 0.625;
    if (special === 'huge') return gauss(r) * 1e30;
    if (special === 'extremes') return [0, 1, 0.5, 1e-6][Math.floor(r() * 4)]!;
    return 0.02 + 0.96 * r();
  });
  if (special === 'nan') for (let i = 0; i < scores.length; i++) if (r() < 0.05) scores[i] = NaN;
  return { scores, offsets };
}

const LOGEXP = new Set<StepAggregation>(['geometricMean', 'meanLogit']);
function tol(backend: Concrete, scale: number, logexp: boolean): { rel: number; abs: number } {
  if (backend === 'native') return { rel: logexp ? 1e-7 : 0, abs: 0 };
  return { rel: 1e-5, abs: 1e-6 * scale };
}
const scaleOf = (x: ArrayLike<number>) => { let s = 1; for (let i = 0; i < x.length; i++) if (Number.isFinite(x[i]!)) s = Math.max(s, Math.abs(x[i]!)); return s; };

async function agreeAll(backend: Concrete, seed: number, B: number, maxLen: number, special: Special, context?: GpuContext): Promise<void> {
  const { scores, offsets } = makeSteps(seed, B, maxLen, special);
  const ctx = context ? { context } : {};
  const label = `B=${B} L<=${maxLen} ${special}`;
  const scale = scaleOf(scores);
  for (const method of stepAggregations) {
    if (backend === 'webgpu' && special === 'huge' && method === 'prod') continue; // f32 overflow where f64 does not
    const ref = await aggregateSteps({ stepScores: scores, stepOffsets: offsets, method, emptyValue: 0.5, backend: 'js' });
    const got = await aggregateSteps({ stepScores: scores, stepOffsets: offsets, method, emptyValue: 0.5, backend, ...ctx });
    const t = tol(backend, method === 'meanOdds' ? scaleOf(ref.scores) : scale, LOGEXP.has(method));
    assert.is(mismatch(got.scores, ref.scores, t.rel, method === 'prod' && backend === 'webgpu' ? 1e-30 : t.abs), '', `${label} ${method}`);
  }
  const success = Float32Array.from({ length: B }, (_, i) => i % 3);
  for (const [clip, delta, succ] of [[true, true, true], [true, false, false], [false, true, false], [false, false, true]] as const) {
    const o = { stepScores: scores, stepOffsets: offsets, clip, delta, ...(succ ? { successReward: success } : {}) };
    const ref = await clipDelta({ ...o, backend: 'js' });
    const got = await clipDelta({ ...o, backend, ...ctx });
    const t = backend === 'native' ? { rel: 0, abs: 0 } : { rel: 1e-5, abs: 1e-6 * scale };
    if (backend === 'webgpu' && clip && (special === 'ties' || special === 'extremes')) continue; // η ties flip with f32 sums
    assert.is(mismatch(got.rewards, ref.rewards, t.rel, t.abs), '', `${label} clip${clip} delta${delta}`);
  }
  const N = offsets[B]!, r = rng(seed + 1);
  for (const withFinal of [true, false]) {
    const potentials = Float32Array.from({ length: withFinal ? N + B : N }, () => gauss(r));
    const o = { rewards: scores, offsets, potentials, gamma: 0.97 };
    const ref = await potentialShaping({ ...o, backend: 'js' });
    const got = await potentialShaping({ ...o, backend, ...ctx });
    const t = backend === 'native' ? { rel: 0, abs: 0 } : { rel: 1e-5, abs: 1e-6 * scale };
    assert.is(mismatch(got.rewards, ref.rewards, t.rel, t.abs), '', `${label} pbrs final${withFinal}`);
  }
  const hops = Float32Array.from({ length: N }, () => (special === 'nan' && r() < 0.05 ? NaN : Math.round((2 * r() - 1) * 100) / 100));
  for (const o of [{}, { inverse: true }, { rawFirst: true }, { mode: 'forward' as const }, { mode: 'backward' as const }]) {
    const ref = await dopamineProgress({ hops, offsets, ...o, backend: 'js' });
    const got = await dopamineProgress({ hops, offsets, ...o, backend, ...ctx });
    const t = backend === 'native' ? { rel: 0, abs: 0 } : { rel: 1e-5, abs: 1e-6 };
    assert.is(mismatch(got.progress, ref.progress, t.rel, t.abs), '', `${label} progress ${JSON.stringify(o)}`);
  }
}

function backendSuite(backend: 'native' | 'webgpu'): void {
  test(`${backend}: every op × shape × edge case agrees with js`, async () => {
    let seed = 1;
    for (const [B, L] of [[1, 1], [1, 0], [3, 5], [64, 20], [300, 12], [500, 100], [1000, 3]] as const) {
      for (const special of ['random', 'empty', 'nan', 'ties', 'huge', 'allEqual', 'extremes'] as const) await agreeAll(backend, seed++, B, L, special);
    }
  });
  test(`${backend}: ${backend === 'native' ? '65,536 responses × ~16 steps (1M steps)' : '16,384 responses × ~16 steps'}`, async () => {
    await agreeAll(backend, 99, backend === 'native' ? 1 << 16 : 1 << 14, 32, 'random');
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
  test('native: the same bits as js (−0, ±inf, NaN) for every exact op, responses of 0 to 70 steps', async () => {
    // Responses run 4 or 8 at a time in lanes, up to 32 steps transposed at once, Clip/Delta and
    // potentials 32 steps at a time past each response's end: lengths around all of those.
    const r = rng(11), pool = [0, -0, Infinity, -Infinity, NaN, 0.5, -0.5, 1, 2];
    const lists = Array.from({ length: 300 }, (_, i) => Array.from({ length: i % 71 === 5 ? 0 : (i * 7) % 71 }, () => (r() < 0.3 ? pool[Math.floor(r() * pool.length)]! : r())));
    const stepScores = Float32Array.from(lists.flat()), stepOffsets = csr(lists), B = lists.length, N = stepScores.length;
    const same = (got: Float32Array, ref: Float32Array, label: string) => { const i = firstDifference(got, ref); assert.is(i, -1, `${label}: [${i}] ${got[i]} vs ${ref[i]}`); };
    for (const method of stepAggregations) {
      if (LOGEXP.has(method)) continue;
      const o = { stepScores, stepOffsets, method, emptyValue: -0 };
      same((await aggregateSteps({ ...o, backend: 'native' })).scores, (await aggregateSteps({ ...o, backend: 'js' })).scores, method);
    }
    for (const clip of [true, false]) for (const delta of [true, false]) {
      const o = { stepScores, stepOffsets, clip, delta, successReward: Float32Array.from({ length: B }, (_, i) => (i % 2 ? -0 : i)) };
      same((await clipDelta({ ...o, backend: 'native' })).rewards, (await clipDelta({ ...o, backend: 'js' })).rewards, `clip${clip} delta${delta}`);
    }
    for (const withFinal of [true, false]) {
      const o = { rewards: stepScores, offsets: stepOffsets, potentials: Float32Array.from({ length: withFinal ? N + B : N }, () => pool[Math.floor(r() * pool.length)]!), gamma: 0.5 };
      same((await potentialShaping({ ...o, backend: 'native' })).rewards, (await potentialShaping({ ...o, backend: 'js' })).rewards, `pbrs final${withFinal}`);
    }
    for (const o of [{}, { inverse: true }, { rawFirst: true }, { mode: 'forward' as const }, { mode: 'backward' as const }]) {
      const p = { hops: stepScores, offsets: stepOffsets, ...o };
      same((await dopamineProgress({ ...p, backend: 'native' })).progress, (await dopamineProgress({ ...p, backend: 'js' })).progress, `progress ${JSON.stringify(o)}`);
    }
  });
  test('native: outputs written over their own inputs (out is the input array), as js does it', async () => {
    for (const [B, L] of [[40, 40], [3000, 24]] as const) {
      const { scores, offsets } = makeSteps(B + L, B, L, 'random');
      const N = scores.length;
      const inPlace = async (run: (backend: 'js' | 'native', a: Float32Array) => Promise<unknown>) => {
        const a = scores.slice(), b = scores.slice();
        await run('js', a);
        await run('native', b);
        return firstDifference(b, a);
      };
      assert.is(await inPlace((backend, a) => clipDelta({ stepScores: a, stepOffsets: offsets, backend, out: a })), -1, `clipDelta B=${B}`);
      assert.is(await inPlace((backend, a) => potentialShaping({ rewards: a, offsets, potentials: scores.subarray(0, N), gamma: 0.9, backend, out: a })), -1, `pbrs B=${B}`);
      for (const o of [{}, { inverse: true }, { mode: 'backward' as const }]) {
        assert.is(await inPlace((backend, a) => dopamineProgress({ hops: a, offsets, ...o, backend, out: a })), -1, `progress B=${B} ${JSON.stringify(o)}`);
      }
    }
  });
  test('native: the addon itself rejects malformed arguments', async () => {
    const addon = loadNative() as unknown as Record<string, (a: object) => Promise<unknown>>;
    const good = { rows: 2, steps: 3, scores: new Float32Array(3), offsets: Uint32Array.from([0, 1, 3]), method: 0, emptyValue: 0, out: new Float32Array(2) };
    await addon['aggregateSteps']!(good);
    for (const bad of [{ offsets: Uint32Array.from([0, 2, 1]) }, { offsets: Uint32Array.from([0, 1, 4]) }, { method: 8 }, { out: new Float32Array(3) }, { scores: new Float32Array(2) }]) {
      let threw = false;
      try { await addon['aggregateSteps']!({ ...good, ...bad }); } catch (e) { threw = e instanceof TypeError || e instanceof RangeError; }
      assert.ok(threw, JSON.stringify(Object.keys(bad)));
    }
    let threw = false;
    try { await addon['potentialShaping']!({ rows: 1, steps: 2, rewards: new Float32Array(2), offsets: Uint32Array.from([0, 2]), potentials: new Float32Array(2), withFinal: true, gamma: 1, out: new Float32Array(2) }); } catch (e) { threw = e instanceof RangeError || e instanceof TypeError; }
    assert.ok(threw, 'potentials too short for withFinal');
  });
} else if (isCI) {
  test('native addon is available in CI', () => assert.unreachable(`native unavailable: ${native.reason}`));
} else console.error(`\n!!! SKIPPING native prm tests: ${native.reason}\n`);

const gpu = await gpuStatus();
if (gpu.available) {
  backendSuite('webgpu');
  test('webgpu: a 64 KiB binding cap splits responses into runs whose steps fit one binding', async () => {
    const small = await createContext({ maxBindingSize: 65536 });
    try {
      await agreeAll('webgpu', 5, 20000, 8, 'empty', small);
      await agreeAll('webgpu', 6, 300, 300, 'random', small);
    } finally { small.dispose(); }
  });
} else if (isCI) {
  test('webgpu is available in CI', () => assert.unreachable(`webgpu unavailable: ${gpu.reason}`));
} else console.error(`\n!!! SKIPPING webgpu prm tests: ${gpu.reason}\n`);

// ---------------------------------------------------------------------------------------------
// Errors and fuzz.

test('errors: malformed options raise RewardkitError naming the argument', async () => {
  const expectError = async (fn: () => unknown, argument: string, code: string) => {
    try { await fn(); assert.unreachable(argument); } catch (e) {
      assert.instance(e, RewardkitError);
      assert.is((e as RewardkitError).argument, argument);
      assert.is((e as RewardkitError).code, code);
    }
  };
  await expectError(() => aggregateSteps({ stepScores: [1, 2], stepOffsets: [0, 1], method: 'min' }), 'stepScores', 'E_SHAPE');
  await expectError(() => aggregateSteps({ stepScores: [1], stepOffsets: [0, 1], method: 'avg' as never }), 'method', 'E_VALUE');
  await expectError(() => aggregateSteps({ stepScores: [1], stepOffsets: [1, 1], method: 'min' }), 'stepOffsets[0]', 'E_VALUE');
  await expectError(() => aggregateSteps({ stepScores: [1, 2], stepOffsets: [0, 2, 1], method: 'min' }), 'stepOffsets[2]', 'E_VALUE');
  await expectError(() => aggregateSteps({ stepScores: [1], stepOffsets: [0, 1], method: 'min', emptyValue: 'x' as never }), 'emptyValue', 'E_VALUE');
  await expectError(() => clipDelta({ stepScores: [1], stepOffsets: [0, 1], successReward: [1, 2] }), 'successReward', 'E_SHAPE');
  await expectError(() => clipDelta({ stepScores: [1], stepOffsets: [0, 1], clip: 1 as never }), 'clip', 'E_VALUE');
  await expectError(() => potentialShaping({ rewards: [1, 2], offsets: [0, 2], potentials: [1] }), 'potentials', 'E_SHAPE');
  await expectError(() => potentialShaping({ rewards: [1, 2], offsets: [0, 2], potentials: [1, 2], gamma: NaN }), 'gamma', 'E_VALUE');
  await expectError(() => dopamineProgress({ hops: [0.1], offsets: [0, 1], mode: 'sideways' as never }), 'mode', 'E_VALUE');
  await expectError(() => dopamineProgress({ hops: [0.1], offsets: [0, 1], mode: 'forward', inverse: true }), 'inverse', 'E_VALUE');
  await expectError(() => dopamineProgress({ hops: [0.1, 0.2], offsets: [0, 1] }), 'hops', 'E_SHAPE');
  await expectError(() => bestOfN({ scores: [1, 2], groups: [0] }), 'groups', 'E_SHAPE');
  await expectError(() => weightedVote({ answers: [1, {}] as never, groups: { size: 2 } }), 'answers[1]', 'E_VALUE');
  await expectError(() => weightedVote({ answers: [1, 2], weights: [1], groups: { size: 2 } }), 'weights', 'E_SHAPE');
});

const fuzzBackends: Concrete[] = ['js', ...(native.available ? ['native' as const] : []), ...(gpu.available ? ['webgpu' as const] : [])];
const lists = fc.array(fc.array(fc.oneof(fc.double({ min: -2, max: 2, noNaN: true }), fc.constant(NaN), fc.constant(1)), { maxLength: 6 }), { maxLength: 8 });
const fuzzOptions = fc.record({
  lists, breakOffsets: fc.constantFrom(false, false, false, true),
  method: fc.constantFrom(...stepAggregations, 'bad'), op: fc.constantFrom('aggregate', 'clipDelta', 'pbrs', 'progress'),
  extra: fc.constantFrom(0, 1, -1), mode: fc.constantFrom('incremental', 'forward', 'backward', 'x'),
});

for (const backend of fuzzBackends) {
  test(`fuzz ${backend}: 300 random inputs, zero crashes, only RewardkitErrors`, async () => {
    let accepted = 0;
    await fc.assert(fc.asyncProperty(fuzzOptions, async (o) => {
      const flat = o.lists.flat(), offsets = Array.from(csr(o.lists));
      if (o.breakOffsets && offsets.length > 1) offsets[offsets.length - 1]! += 1;
      const B = o.lists.length;
      try {
        if (o.op === 'aggregate') await aggregateSteps({ stepScores: flat, stepOffsets: offsets, method: o.method as never, backend });
        else if (o.op === 'clipDelta') await clipDelta({ stepScores: flat, stepOffsets: offsets, successReward: new Float32Array(Math.max(0, B + o.extra)), backend });
        else if (o.op === 'pbrs') await potentialShaping({ rewards: flat, offsets, potentials: new Float32Array(Math.max(0, flat.length + B + o.extra)), backend });
        else await dopamineProgress({ hops: flat, offsets, mode: o.mode as never, backend });
        accepted++;
        return true;
      } catch (e) {
        if (!(e instanceof RewardkitError)) throw e;
        return /Expected .+ but received |unavailable/.test(e.message);
      }
    }), { numRuns: 300, seed: 5 });
    console.log(`  ${backend}: ${accepted} of 300 inputs were valid and computed`);
  });
}

test.after(() => disposeDefaultContext());
test.run();
