/**
 * scorePipeline: native and WebGPU against the js composition of the reference ops (scoreHeads →
 * aggregateEnsemble → shapeRewards → grpoAdvantages) on random shapes (K = 1 included, f32 and bf16
 * hidden states, pooled and [B, T, H] inputs), with and without shaping and advantages, WebGPU with
 * bindings split at 65,536 bytes; the stats commit, what `read` brings back, typed errors and a
 * fast-check fuzz of malformed options (zero crashes, only RewardkitErrors, the same acceptance on every backend).
 *
 * Tolerances (|a − e| <= abs + rel·|e|; NaN must match NaN):
 * - perHead: the heads' own per-score bound (test/heads-helpers.ts errorBound: f32 GEMM vs the f64
 *   reference), plus on WebGPU u·(|c| + |r|) because the fused path adds each head's constant in
 *   f32 on the device (scoreHeads adds it in f64 on the host).
 * - scores: rel 5e-5, abs 5e-5. The scores here are O(1) (weights ~ 1/√H, O(1) biases), the heads'
 *   bound is ~1e-6 at these sizes and every later stage is f32 on WebGPU (ensemble: rel/abs 2e-5
 *   in test/ensemble.test.ts; shaping's sigmoid/tanh are 1-Lipschitz, meanstd divides by a running
 *   std ~1 here, so the error grows by at most a small factor).
 * - advantages: rel 5e-4, abs 5e-4: GRPO divides the score errors (~1e-6 here) by the group std + ε,
 *   so this allows a group std down to ~1e-2; the groups are random labels (some of 1 or 2 rows) over
 *   O(1) scores, and these seeded cases stay above that.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fc from 'fast-check';
import {
  createContext, disposeDefaultContext, gpuStatus, nativeStatus, RewardkitError, RunningStats, scorePipeline,
  type GpuContext, type ScorePipelineOptions,
} from '../lib/index.js';
import { prepareHeads } from '../lib/scoring/heads.js';
import { isCI, mismatch, rng } from './helpers.js';
import { encode, errorBound, randomFloats, randomHeads, type Concrete, U } from './heads-helpers.js';

const gpu = await gpuStatus();
const backends: Concrete[] = [];
if (nativeStatus().available) backends.push('native');
else if (isCI) test('native backend available (CI)', () => assert.unreachable(nativeStatus().reason));
if (gpu.available) backends.push('webgpu');
else if (isCI) test('webgpu backend available (CI)', () => assert.unreachable(gpu.reason));

interface Spec { B: number; T: number; H: number; K: number; dtype: 'f32' | 'bf16'; pooling: 'none' | 'mask' | 'mean' }
const methods = ['mean', 'min', 'max', 'median', 'uwo', 'meanMinusStd'] as const;

/** A random pipeline problem; `stage` picks which optional stages are on. */
function problem(seed: number, s: Spec, stage: { shaping?: 'plain' | 'stats'; advantages?: 'padded' | 'packed'; zNormalize?: boolean }): ScorePipelineOptions {
  const r = rng(seed);
  const { B, T, H, K } = s;
  const rows = s.pooling === 'none' ? B : B * T;
  const values = randomFloats(r, rows * H);
  const o: ScorePipelineOptions = {
    hidden: encode(values, s.dtype), dtype: s.dtype, shape: s.pooling === 'none' ? [B, H] : [B, T, H],
    heads: randomHeads(r, K, H, 40),
    ensemble: { method: methods[seed % methods.length]!, zNormalize: stage.zNormalize ?? false, c: 0.5 },
    read: ['scores', 'perHead'],
  };
  if (s.pooling !== 'none') {
    const mask = new Uint8Array(B * T);
    for (let b = 0; b < B; b++) for (let t = 0; t <= Math.floor(r() * T); t++) mask[b * T + t] = 1;
    o.pooling = s.pooling === 'mask' ? { kind: 'mask', mask } : { kind: 'mean', mask };
  }
  if (stage.shaping === 'plain') {
    const M = 3;
    o.shaping = { references: randomFloats(r, B * M), referenceCount: M, lengths: Array.from({ length: B }, () => Math.floor(r() * 600)), options: { tanh: 'relative', sigmoid: true, ceil: 2 } };
  } else if (stage.shaping === 'stats') {
    const stats = new RunningStats();
    stats.updateFrom(randomFloats(r, 50));
    o.shaping = { options: { meanstd: true, clipping: true, minmax: true, tanh: true }, stats };
  }
  if (stage.advantages) {
    const G = 1 + Math.floor(B / 4);
    const groups = Int32Array.from({ length: B }, () => Math.floor(r() * G));
    const lens = Array.from({ length: B }, () => Math.floor(r() * 9));
    if (stage.advantages === 'packed') {
      const offsets = new Uint32Array(B + 1);
      lens.forEach((l, i) => { offsets[i + 1] = offsets[i]! + l; });
      o.advantages = { groups, offsets, preset: seed % 2 ? 'trl' : 'verl' };
    } else {
      const mask = new Uint8Array(B * 8);
      lens.forEach((l, i) => mask.fill(1, i * 8, i * 8 + Math.min(l, 8)));
      o.advantages = { groups, mask, shape: [B, 8], scale: seed % 3 ? 'group' : 'batch' };
    }
    o.read = ['scores', 'perHead', 'tokenAdvantages', 'rowAdvantages'];
  }
  return o;
}

/** A copy of the options whose RunningStats is a fresh clone (each backend starts from the same stats). */
function withStats(o: ScorePipelineOptions): ScorePipelineOptions {
  return o.shaping?.stats ? { ...o, shaping: { ...o.shaping, stats: o.shaping.stats.clone() } } : { ...o };
}

async function agree(backend: Concrete, o: ScorePipelineOptions, what: string, context?: GpuContext): Promise<void> {
  const refIn = withStats(o), gotIn = withStats(o);
  const ref = await scorePipeline({ ...refIn, backend: 'js' });
  const got = await scorePipeline({ ...gotIn, backend, ...(context ? { context } : {}) });
  assert.is(got.backend, backend);
  // perHead: the heads' bound (+ the constant added in f32 on the device).
  const bound = errorBound({ hidden: o.hidden, dtype: o.dtype, shape: o.shape, pooling: o.pooling, heads: o.heads }, backend);
  const hp = prepareHeads({ hidden: o.hidden, dtype: o.dtype, shape: o.shape, pooling: o.pooling, heads: o.heads });
  let bad = '';
  ref.perHead!.forEach((e, i) => {
    const c = hp.heads[Math.floor(i / hp.B)]!.c;
    const b = bound[i]! + (backend === 'webgpu' ? U * (Math.abs(c) + Math.abs(e)) : 0);
    if (!bad && !(Math.abs(got.perHead![i]! - e) <= b)) bad = `[${i}] got ${got.perHead![i]}, expected ${e} ± ${b}`;
  });
  assert.is(bad, '', `${backend} ${what} perHead`);
  assert.is(mismatch(got.scores!, ref.scores!, 5e-5, 5e-5), '', `${backend} ${what} scores`);
  if (ref.advantages) {
    assert.is(mismatch(got.advantages!.rowAdvantages!, ref.advantages.rowAdvantages!, 5e-4, 5e-4), '', `${backend} ${what} rowAdvantages`);
    assert.is(mismatch(got.advantages!.tokenAdvantages!, ref.advantages.tokenAdvantages!, 5e-4, 5e-4), '', `${backend} ${what} tokenAdvantages`);
  }
  if (ref.stats) {
    const a = got.stats!.state(), e = ref.stats.state();
    assert.is(a.n, e.n, `${backend} ${what} stats.n`);
    assert.is(mismatch([a.mean, a.M2, a.min, a.max], [e.mean, e.M2, e.min, e.max], 1e-4, 1e-4), '', `${backend} ${what} stats`);
    if (gotIn.shaping!.stats) assert.is(got.stats, gotIn.shaping!.stats, 'the caller\'s stats object is updated and returned');
  }
}

const specs: Spec[] = [
  { B: 1, T: 1, H: 1, K: 1, dtype: 'f32', pooling: 'none' },
  { B: 5, T: 1, H: 13, K: 1, dtype: 'bf16', pooling: 'none' },
  { B: 17, T: 6, H: 24, K: 3, dtype: 'f32', pooling: 'mask' },
  { B: 33, T: 4, H: 40, K: 5, dtype: 'bf16', pooling: 'mean' },
  { B: 64, T: 1, H: 64, K: 16, dtype: 'f32', pooling: 'none' },
  { B: 130, T: 3, H: 31, K: 2, dtype: 'bf16', pooling: 'mask' },
];

for (const backend of backends) {
  test(`${backend}: heads → ensemble (no shaping, no advantages) on random shapes`, async () => {
    let seed = 1;
    for (const s of specs) await agree(backend, problem(seed++, s, {}), JSON.stringify(s));
  });

  test(`${backend}: + shaping (references, length penalty / running stats) + GRPO advantages (padded / packed)`, async () => {
    let seed = 100;
    for (const s of specs.slice(1)) {
      await agree(backend, problem(seed++, s, { shaping: 'plain' }), `${JSON.stringify(s)} shaping`);
      await agree(backend, problem(seed++, s, { shaping: 'stats', advantages: 'padded' }), `${JSON.stringify(s)} stats + padded`);
      await agree(backend, problem(seed++, s, { advantages: 'packed', zNormalize: s.K > 1 }), `${JSON.stringify(s)} packed`);
    }
  });
}

if (backends.includes('webgpu')) {
  test('webgpu: bindings split at maxBindingSize 65,536 (ensemble chunks, token chunks of the advantages)', async () => {
    const small = await createContext({ maxBindingSize: 65536 });
    try {
      // K·B = 16·1,100 > 16,316 f32 per binding: two ensemble chunks; 1,100 × 20 tokens: two broadcast chunks.
      const s: Spec = { B: 1100, T: 1, H: 8, K: 16, dtype: 'f32', pooling: 'none' };
      const o = problem(7, s, { shaping: 'stats', advantages: 'padded', zNormalize: true });
      const r = rng(8);
      const G = 200;
      o.advantages = { groups: Int32Array.from({ length: 1100 }, () => Math.floor(r() * G)), mask: Uint8Array.from({ length: 1100 * 20 }, () => (r() < 0.7 ? 1 : 0)), shape: [1100, 20] };
      await agree('webgpu', o, 'split', small);
      await agree('webgpu', problem(9, { ...s, dtype: 'bf16' }, { shaping: 'plain' }), 'split bf16 shaping', small);
    } finally {
      small.dispose();
    }
  });

  test('webgpu: read brings back only what it names', async () => {
    const o = problem(11, { B: 9, T: 1, H: 5, K: 2, dtype: 'f32', pooling: 'none' }, { advantages: 'padded' });
    const only = await scorePipeline({ ...o, read: ['rowAdvantages'], backend: 'webgpu' });
    assert.is(only.scores, undefined);
    assert.is(only.perHead, undefined);
    assert.is(only.advantages!.tokenAdvantages, undefined);
    const ref = await scorePipeline({ ...o, backend: 'js' });
    assert.is(mismatch(only.advantages!.rowAdvantages!, ref.advantages!.rowAdvantages!, 5e-4, 5e-4), '');
    const dflt = await scorePipeline({ ...o, read: undefined, backend: 'webgpu' });
    assert.ok(dflt.scores && dflt.advantages?.tokenAdvantages && dflt.advantages.rowAdvantages && !dflt.perHead, 'default read');
  });
}

test('typed errors name the argument, before any work', async () => {
  const r = rng(3);
  const base: ScorePipelineOptions = { hidden: randomFloats(r, 4 * 3), shape: [4, 3], heads: randomHeads(r, 2, 3, 4) };
  const cases: Array<[Partial<ScorePipelineOptions> | Record<string, unknown>, string, string]> = [
    [{ ensemble: { method: 'vote' as never } }, 'E_VALUE', 'ensemble.method'],
    [{ ensemble: { ddof: 2 as never } }, 'E_VALUE', 'ensemble.ddof'],
    [{ ensemble: 5 as never }, 'E_VALUE', 'ensemble'],
    [{ shaping: { options: { k: NaN } } }, 'E_VALUE', 'shaping.options.k'],
    [{ shaping: { options: { centered: true } } }, 'E_VALUE', 'shaping.references'],
    [{ shaping: { references: [1, 2, 3] } }, 'E_SHAPE', 'shaping.references'],
    [{ advantages: { groups: [0, 0, 1, 1], mask: new Uint8Array(10), shape: [5, 2] } }, 'E_SHAPE', 'advantages.shape'],
    [{ advantages: { groups: [0, 0, 1], offsets: [0, 1, 2, 3, 4] } }, 'E_SHAPE', 'advantages.groups'],
    [{ advantages: { groups: [0, 0, 1, 1], offsets: [0, 2, 1, 3, 4] } }, 'E_VALUE', 'advantages.offsets[2]'],
    [{ read: ['tokenAdvantages'] }, 'E_VALUE', 'read[0]'],
    [{ read: ['all' as never] }, 'E_VALUE', 'read[0]'],
    [{ heads: randomHeads(r, 65, 3, 1, 'linear') }, 'E_RANGE', 'heads'],
    [{ shape: [4, 4] }, 'E_SHAPE', 'hidden'],
  ];
  for (const backend of ['js', ...backends] as const) {
    for (const [patch, code, argument] of cases) {
      const err = await scorePipeline({ ...base, ...patch, backend } as ScorePipelineOptions).then(() => null, (e: unknown) => e);
      assert.instance(err, RewardkitError, `${backend} ${argument}`);
      const e = err as RewardkitError;
      if (e.code !== code || e.argument !== argument) assert.unreachable(`${backend}: expected ${code} ${argument}, got ${e.code} ${e.argument}: ${e.message}`);
    }
  }
});

test('non-finite scores: refused before the running stats move, and by GRPO (verl); the stats stay as they were', async () => {
  const r = rng(4);
  const hidden = randomFloats(r, 6 * 3);
  hidden[4] = NaN; // row 1
  const base: ScorePipelineOptions = { hidden, shape: [6, 3], heads: randomHeads(r, 2, 3, 4, 'linear') };
  for (const backend of ['js', ...backends] as const) {
    const stats = new RunningStats();
    stats.updateFrom([1, 2, 3]);
    const before = stats.state();
    const e1 = await scorePipeline({ ...base, shaping: { options: { meanstd: true }, stats }, backend }).then(() => null, (e: unknown) => e);
    assert.instance(e1, RewardkitError, backend);
    assert.is((e1 as RewardkitError).argument, 'hidden', backend);
    assert.equal(stats.state(), before, `${backend}: stats untouched`);
    const e2 = await scorePipeline({ ...base, advantages: { groups: { size: 3 }, offsets: [0, 1, 2, 3, 4, 5, 6] }, backend }).then(() => null, (e: unknown) => e);
    assert.instance(e2, RewardkitError, backend);
    assert.is((e2 as RewardkitError).code, 'E_VALUE', backend);
    assert.is((e2 as RewardkitError).argument, 'hidden', backend);
    // TRL reads NaN as a missing reward: its advantage is 0, the rest of the group goes on.
    const trl = await scorePipeline({ ...base, advantages: { groups: { size: 3 }, offsets: [0, 1, 2, 3, 4, 5, 6], preset: 'trl' }, backend });
    assert.ok(Number.isNaN(trl.scores![1]!), backend);
    assert.is(trl.advantages!.rowAdvantages![1], 0, backend);
    // A successful call commits the stats once.
    const ok = await scorePipeline({ ...base, hidden: randomFloats(r, 18), shaping: { options: { meanstd: true }, stats }, backend });
    assert.is(ok.stats, stats);
    assert.is(stats.n, before.n + 6, backend);
  }
});

// A valid small problem with one field replaced by something odd: zero crashes, only RewardkitErrors.
const odd = fc.constantFrom<unknown>(undefined, null, NaN, -1, 0, 1e30, 'x', [], [NaN], {}, new Float32Array(0), new Float32Array([NaN, 1, 2]), new Uint8Array(3), true);
const fuzzOptions = fc.record({
  field: fc.constantFrom('hidden', 'dtype', 'shape', 'pooling', 'heads', 'ensemble', 'ensemble.method', 'ensemble.c', 'ensemble.zNormalize',
    'shaping', 'shaping.options', 'shaping.references', 'shaping.stats', 'shaping.options.meanstd', 'advantages', 'advantages.groups',
    'advantages.offsets', 'advantages.preset', 'advantages.epsilon', 'read'),
  value: odd,
  nanHidden: fc.boolean(),
});
const acceptedBy = new Map<string, number>();
for (const backend of ['js', ...backends] as const) {
  test(`fuzz ${backend}: 200 malformed options, zero crashes, only RewardkitErrors`, async () => {
    let accepted = 0;
    await fc.assert(fc.asyncProperty(fuzzOptions, async ({ field, value, nanHidden }) => {
      const r = rng(5);
      const hidden = randomFloats(r, 3 * 4);
      if (nanHidden) hidden[5] = NaN;
      const o: Record<string, unknown> = {
        hidden, shape: [3, 4], heads: randomHeads(r, 2, 4, 3), ensemble: { method: 'median' },
        shaping: { options: { meanstd: true, tanh: true }, references: [1, 2, 3], referenceCount: 1 },
        advantages: { groups: [0, 0, 1], offsets: [0, 2, 2, 5] }, backend,
      };
      const [head, key] = field.split('.', 2) as [string, string | undefined];
      if (key === 'options') {
        const [, , leaf] = field.split('.');
        const sh = o['shaping'] as { options: Record<string, unknown> };
        if (leaf) sh.options[leaf] = value; else (o['shaping'] as Record<string, unknown>)['options'] = value;
      } else if (key) (o[head] as Record<string, unknown>)[key] = value;
      else o[head] = value;
      try {
        const res = await scorePipeline(o as unknown as ScorePipelineOptions);
        accepted++;
        return res.scores instanceof Float32Array || res.scores === undefined;
      } catch (e) {
        if (!(e instanceof RewardkitError)) throw e;
        return /Expected .+ but received /.test(e.message);
      }
    }), { numRuns: 200, seed: 777 });
    // Every backend accepts exactly the inputs js accepts (same seed, same inputs).
    acceptedBy.set(backend, accepted);
    assert.ok(accepted > 0, 'some inputs are valid');
    assert.is(accepted, acceptedBy.get('js'), `${backend} accepts what js accepts`);
  });
}

test.after(() => disposeDefaultContext());
test.run();
