/**
 * Token estimators (reinforcePlusPlus, gae verl/openrlhf, remax) and the DAPO overlong penalty: the
 * JS reference against verl's outputs (verl_adv_token.json) and the length_penalty suite, then
 * native and WebGPU against the JS reference.
 *
 * Tolerances, and why:
 * - conformance: verl scans and whitens in f32, the reference in f64: rel 1e-5, abs 1e-5 (whitened
 *   values are O(1)); returns abs T·3·2^-24·max|V, R| (verl's f32 scan bound: in the `values=large`
 *   case returns = adv + V cancel ~1e3 down to ~10, exposing verl's rounding).
 * - native scans in double and stores f32 like the reference; verl's GAE and REINFORCE++ reassociate
 *   the scan in 4-token blocks (affine maps composed over lanes). Both that and the sequential scan
 *   are within ~3·n·2^-53·S of the exact value (S: Σ of the terms' absolute values, n <= T), so they
 *   differ by <= 6·T·2^-53·S ≈ 5.5e-12·S at T = 8,192: below the f32 ulp unless a row cancels by
 *   > ~1e5, which no test input does (|terms| <= a few × scale, T <= 300 here). The whitening
 *   moments are formed differently: per row, one pass around a shift (the row's first
 *   trained value; relative error of Σ(v − mean)² <= ~n²·2^-53 = 2e-9 for its spans of n <= 4096),
 *   rows combined in order (Chan's update). All of it in f64, so the whitened f32 outputs differ by
 *   at most an ulp or so: rel 1e-6, abs 1e-6.
 * - webgpu scans in f32: a row's running sum carries at most T·2^-24·Σ|terms| of rounding, so
 *   returns are compared with abs T·2^-23·(Σ|R| + 2Σ|V|) of the worst row (rel 1e-5); whitened
 *   advantages add that error divided by the std, plus 1e-4 for the f32 statistics.
 * - overlong: exact on js/native (f64 → f32); webgpu computes in f32: rel 1e-6.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fc from 'fast-check';
import { createContext, disposeDefaultContext, gae, gpuStatus, nativeStatus, overlongPenalty, reinforcePlusPlus, remax, RewardkitError, type GpuContext, type TokenAdvantageResult } from '../lib/index.js';
import { decode, errorCode as code, fixture, gauss, isCI, mismatch, rng } from './helpers.js';

// ---------------------------------------------------------------------------------------------
// verl conformance
const adv = fixture('conformance/verl/verl_adv_token.json');
test('JS reference matches every call of verl_adv_token.json (gae, reinforce++, remax)', async () => {
  let calls = 0;
  for (const c of adv.cases) {
    const I = c.inputs;
    const shape = I.response_mask.shape as [number, number];
    const base = { mask: Float32Array.from(decode(I.response_mask.data)), shape, rewards: Float32Array.from(decode(I.token_level_rewards.data)), backend: 'js' as const };
    for (const call of c.calls) {
      calls++;
      const name = call.registry_name as string;
      const run = (): Promise<TokenAdvantageResult> => {
        if (name === 'gae') return gae({ ...base, values: Float32Array.from(decode(I.values.data)), gamma: call.params.gamma, lambda: call.params.lam });
        if (name === 'reinforce_plus_plus') return reinforcePlusPlus({ ...base, gamma: call.params['config.gamma'] });
        return remax({ ...base, baselines: Float32Array.from(decode(I.reward_baselines.data)) });
      };
      const what = `${c.id} ${name} ${JSON.stringify(call.params)}`;
      if (call.error) { assert.is(await code(run), 'E_VALUE', what); continue; }
      const r = await run();
      // verl's f32 scan: each of T steps rounds at ~2^-24 of the largest term (|V| dominates in
      // the `values=large` case, where returns = adv + V cancel), so abs T·3·2^-24·max|V, R|.
      let big = 0;
      for (const x of [...decode(I.values.data), ...decode(I.token_level_rewards.data)]) big = Math.max(big, Math.abs(x));
      const abs = 1e-5 + shape[1] * 3 * 2 ** -24 * big;
      for (const key of ['advantages', 'returns'] as const) {
        const bad = mismatch(r[key], decode(call.outputs[key].data), 1e-5, key === 'returns' ? abs : 1e-5);
        assert.is(bad, '', `${what} ${key}: ${bad}`);
      }
    }
  }
  assert.ok(calls >= 40, `${calls} calls`);
});

const lp = fixture('conformance/scoring/length_penalty.json');
test('overlong penalty matches the length_penalty suite (verl and paper forms)', async () => {
  for (const c of lp.cases) {
    for (const preset of ['verl', 'paper'] as const) {
      const r = await overlongPenalty({ lengths: c.inputs.lengths, maxLength: c.params.max_resp_len, buffer: c.params.overlong_buffer_len, factor: c.params.penalty_factor, preset, backend: 'js' });
      assert.is(mismatch(r.penalties, c.outputs[preset], 0, 0), '', `${c.id} ${preset}`);
    }
  }
});

test('overlong: lengths counted from a layout, added to the scores', async () => {
  const mask = new Uint8Array([1, 1, 1, 0, 1, 1, 0, 0, 0, 0, 0, 0]);
  const r = await overlongPenalty({ mask, shape: [3, 4], maxLength: 3, buffer: 2, scores: [1, 2, 3], backend: 'js' });
  assert.equal(Array.from(r.penalties), [-1, -0.5, 0].map(Math.fround)); // lengths 3, 2, 0
  assert.equal(Array.from(r.scores!), [0, 1.5, 3]);
  const packed = await overlongPenalty({ offsets: [0, 3, 5, 5], maxLength: 3, buffer: 2, preset: 'paper', backend: 'js' });
  assert.equal(Array.from(packed.penalties), [-1, -0.5, 0]);
});

test('reinforce++: a hole in the mask cuts the return (reset after storing)', async () => {
  // Row: trained, hole, trained; rewards 1 each; γ = 1. Returns: [1+0... ] → ret[2] = 1, ret[1] = 1 + 1 = 2 (stored, then reset), ret[0] = 1.
  const r = await reinforcePlusPlus({ rewards: [1, 1, 1, 5, 0, 0], mask: new Uint8Array([1, 0, 1, 1, 1, 1]), shape: [2, 3], backend: 'js' });
  assert.equal(Array.from(r.returns), [1, 2, 1, 5, 0, 0]);
  assert.is(r.advantages[1], 0); // ·M
});

// ---------------------------------------------------------------------------------------------
// Random problems
type Est = 'reinforce' | 'gae-verl' | 'gae-openrlhf' | 'remax';
interface Case { name: string; options: Record<string, any>; tol: number; cols: number }

function tokenCases(rows: number, cols: number, seed: number): Case[] {
  const out: Case[] = [];
  let k = 0;
  for (const kind of ['u8', 'f32', 'i32', 'packed', 'packedMask'] as const) {
    for (const special of ['random', 'emptyRows', 'nanPad', 'huge', 'tiny', 'holes', 'allZero'] as const) {
      const r = rng(seed + k++);
      const lens = Array.from({ length: rows }, () => (special === 'emptyRows' && r() < 0.3 ? 0 : Math.floor(r() * (cols + 1))));
      const scale = special === 'huge' ? 1e30 : special === 'tiny' ? 1e-30 : 1;
      let options: Record<string, any>, tokens: number, trained: Uint8Array;
      if (kind.startsWith('packed')) {
        const offsets = new Uint32Array(rows + 1);
        for (let i = 0; i < rows; i++) offsets[i + 1] = offsets[i]! + lens[i]!;
        tokens = offsets[rows]!;
        trained = new Uint8Array(tokens).fill(1);
        options = { offsets };
        if (kind === 'packedMask') { for (let t = 0; t < tokens; t++) trained[t] = r() < 0.8 ? 1 : 0; options['mask'] = trained; }
      } else {
        tokens = rows * cols;
        trained = new Uint8Array(tokens);
        for (let i = 0; i < rows; i++) for (let t = 0; t < lens[i]!; t++) trained[i * cols + t] = special === 'holes' && r() < 0.2 ? 0 : 1;
        options = { mask: kind === 'f32' ? Float32Array.from(trained) : kind === 'i32' ? Int32Array.from(trained) : trained, shape: [rows, cols] };
      }
      const R = new Float32Array(tokens), V = new Float32Array(tokens);
      for (let t = 0; t < tokens; t++) {
        R[t] = special === 'allZero' ? 0 : (r() < 0.3 ? gauss(r) : r() < 0.1 ? 1 : 0) * scale;
        V[t] = special === 'allZero' ? 0 : gauss(r) * scale;
      }
      if (special === 'nanPad') for (let t = 0; t < tokens; t++) if (!trained[t]) { R[t] = [NaN, Infinity, -Infinity][t % 3]!; V[t] = NaN; }
      options['rewards'] = R;
      options['values'] = V;
      options['baselines'] = Float32Array.from({ length: rows }, () => gauss(r) * scale);
      options['gamma'] = [1, 0.99, 0.9][k % 3];
      options['lambda'] = [1, 0.95, 0][k % 3];
      // Σ|R| + 2Σ|V| of the worst row over its trained tokens (the f32 scan bound's scale).
      let worst = 0;
      const at = (i: number) => (options['offsets'] ? options['offsets'][i] : i * cols);
      for (let i = 0; i < rows; i++) {
        let s = 0;
        for (let t = at(i); t < at(i + 1); t++) if (trained[t]) s += Math.abs(R[t]!) + 2 * Math.abs(V[t]!);
        worst = Math.max(worst, s);
      }
      out.push({ name: `${kind}/${special}`, options, tol: cols * 2 ** -23 * worst, cols });
    }
  }
  return out;
}

const runEst = (est: Est, o: Record<string, any>): Promise<TokenAdvantageResult> =>
  est === 'reinforce' ? reinforcePlusPlus(o as never) : est === 'remax' ? remax(o as never) : gae({ ...o, preset: o['preset'] ?? (est === 'gae-verl' ? 'verl' : 'openrlhf') } as never);

type Backend = 'native' | 'webgpu';
const available: Backend[] = [];
if (nativeStatus().available) available.push('native');
else if (isCI) test('native addon is available in CI', () => assert.unreachable(nativeStatus().reason));
else console.error(`!!! SKIPPING native token tests: ${nativeStatus().reason}`);
const gpu = await gpuStatus();
if (gpu.available) available.push('webgpu');
else if (isCI) test('webgpu is available in CI', () => assert.unreachable(gpu.reason));
else console.error(`!!! SKIPPING webgpu token tests: ${gpu.reason}`);

/** Standard deviation of the trained pre-whitening quantity (reinforce++: returns; GAE: adv = ret − V). */
function stdOf(est: Est, c: Case, r: TokenAdvantageResult): number {
  const m = c.options['mask'] as ArrayLike<number> | undefined;
  let n = 0, s = 0, q = 0;
  for (let t = 0; t < r.returns.length; t++) {
    if (m && !m[t]) continue;
    const v = est === 'reinforce' ? r.returns[t]! : r.returns[t]! - (est === 'gae-verl' ? c.options['values'][t] : c.options['values'][t]);
    n++; s += v; q += v * v;
  }
  return n > 1 ? Math.sqrt(Math.max(q / n - (s / n) ** 2, 0)) : 1;
}

async function agree(c: Case, backend: Backend, context?: GpuContext): Promise<void> {
  for (const est of ['reinforce', 'gae-verl', 'gae-openrlhf', 'remax'] as Est[]) {
    const what = `${c.name} ${est} γ=${c.options['gamma']} λ=${c.options['lambda']} on ${backend}`;
    let want: TokenAdvantageResult;
    try { want = await runEst(est, { ...c.options, backend: 'js' }); }
    catch (e) { assert.is(await code(() => runEst(est, { ...c.options, backend, context })), (e as RewardkitError).code, what); continue; }
    const got = await runEst(est, { ...c.options, backend, context });
    assert.is(got.backend, backend);
    let badRet: string, badAdv: string;
    if (backend === 'native') {
      badRet = mismatch(got.returns, want.returns, 1e-6, 1e-6);
      badAdv = mismatch(got.advantages, want.advantages, 1e-6, 1e-6);
    } else {
      badRet = mismatch(got.returns, want.returns, 1e-5, c.tol + 1e-37);
      const whitened = est !== 'remax';
      const advTol = whitened ? c.tol / Math.max(stdOf(est, c, want), 1e-4) + 1e-4 : c.tol + 1e-37;
      badAdv = mismatch(got.advantages, want.advantages, whitened ? 1e-4 : 1e-5, advTol);
    }
    assert.is(badRet, '', `${what} returns: ${badRet}`);
    assert.is(badAdv, '', `${what} advantages: ${badAdv}`);
  }
  // Overlong from the same layout.
  const layout = { mask: c.options['mask'], shape: c.options['shape'], offsets: c.options['offsets'] };
  const ol = { ...layout, maxLength: c.cols, buffer: Math.max(1, Math.floor(c.cols / 3)), scores: c.options['baselines'], preset: c.cols % 2 ? 'paper' as const : 'verl' as const };
  const want = await overlongPenalty({ ...ol, backend: 'js' });
  const got = await overlongPenalty({ ...ol, backend, context });
  assert.is(mismatch(got.penalties, want.penalties, 1e-6, 1e-7), '', `${c.name} overlong on ${backend}`);
  assert.is(mismatch(got.scores!, want.scores!, 1e-6, 1e-6 * Math.abs(c.options['baselines'][0] ?? 1)), '', `${c.name} overlong scores on ${backend}`);
}

for (const backend of available) {
  test(`${backend} agrees with the JS reference (every estimator, layout and edge case, 1x1 to 300x300)`, async () => {
    const sizes: Array<[number, number]> = backend === 'native' ? [[1, 1], [2, 3], [17, 33], [64, 200], [300, 300]] : [[1, 1], [3, 5], [40, 90], [300, 300]];
    for (const [i, [rows, cols]] of sizes.entries()) for (const c of tokenCases(rows, cols, 1000 * i)) await agree(c, backend);
  });
}

if (available.includes('native')) {
  test('native: a large case (8,192 rows × 256 tokens, 2M tokens) agrees with js', async () => {
    const [c] = tokenCases(8192, 256, 5).filter((x) => x.name === 'u8/holes');
    await agree(c!, 'native');
  });
}

if (available.includes('webgpu')) {
  test('webgpu splits token arrays across 64 KiB bindings and still agrees', async () => {
    const small = await createContext({ maxBindingSize: 64 * 1024 });
    try {
      for (const c of tokenCases(120, 700, 31).filter((x) => /u8\/holes|packedMask\/random|f32\/nanPad/.test(x.name))) await agree(c, 'webgpu', small);
    } finally { small.dispose(); }
  });
  test('webgpu scans long rows (T = 8,192)', async () => {
    const [c] = tokenCases(4, 8192, 8).filter((x) => x.name === 'u8/holes');
    await agree(c!, 'webgpu');
  });
}

// ---------------------------------------------------------------------------------------------
// Malformed input
test('malformed inputs raise RewardkitErrors naming the argument', async () => {
  const good = { rewards: [1, 2, 3, 4], values: [0, 0, 0, 0], baselines: [0, 0], mask: new Uint8Array([1, 1, 1, 1]), shape: [2, 2] as [number, number] };
  const cases: Array<[Est | 'overlong', Record<string, unknown>, string]> = [
    ['reinforce', { ...good, rewards: [1, 2] }, 'rewards'],
    ['reinforce', { ...good, gamma: -1 }, 'gamma'],
    ['reinforce', { ...good, gamma: NaN }, 'gamma'],
    ['gae-verl', { ...good, values: undefined }, 'values'],
    ['gae-verl', { ...good, lambda: 'x' }, 'lambda'],
    ['gae-verl', { ...good, preset: 'trl' }, 'preset'],
    ['remax', { ...good, baselines: [1] }, 'baselines'],
    ['remax', { ...good, out: { advantages: new Float32Array(2) } }, 'out.advantages'],
    ['reinforce', { ...good, mask: new Uint8Array([0, 0, 0, 1]) }, 'mask'],
    ['gae-openrlhf', { ...good, mask: new Uint8Array(4) }, 'mask'],
    ['overlong', { lengths: [1, -2] }, 'lengths[1]'],
    ['overlong', { lengths: [1], buffer: 0 }, 'buffer'],
    ['overlong', { lengths: [1], preset: 'dapo' }, 'preset'],
    ['overlong', { lengths: [1], scores: [1, 2] }, 'scores'],
    ['overlong', { lengths: [1], offsets: [0, 1] }, 'lengths'],
  ];
  for (const [est, opts, arg] of cases) {
    try {
      if (est === 'overlong') await overlongPenalty(opts as never); else await runEst(est, opts);
      assert.unreachable(arg);
    } catch (e) { assert.instance(e, RewardkitError, arg); assert.is((e as RewardkitError).argument, arg, `${est} ${arg}`); }
  }
});

test('fuzz: malformed and edge inputs give results or RewardkitErrors, never crashes', async () => {
  const num = fc.oneof(fc.integer({ min: -2, max: 9 }), fc.double(), fc.constantFrom(NaN, Infinity, -0, 1e30));
  const anything = fc.oneof(fc.constant(undefined), fc.constant(null), fc.string(), num, fc.boolean());
  const floats = fc.oneof(fc.array(num, { maxLength: 12 }), fc.array(num, { maxLength: 12 }).map((a) => Float32Array.from(a)), anything);
  const arb = fc.record({
    rewards: floats, values: floats, baselines: floats, scores: floats,
    lengths: fc.oneof(fc.array(fc.integer({ min: -1, max: 30 }), { maxLength: 5 }), anything),
    mask: fc.oneof(fc.array(fc.integer({ min: 0, max: 2 }), { maxLength: 12 }).map((a) => Uint8Array.from(a)), anything),
    shape: fc.oneof(fc.tuple(fc.integer({ min: 0, max: 4 }), fc.integer({ min: 0, max: 4 })), anything),
    offsets: fc.oneof(fc.array(fc.integer({ min: 0, max: 12 }), { maxLength: 5 }).map((a) => [0, ...a.sort((x, y) => x - y)]), anything),
    gamma: fc.oneof(num, anything), lambda: fc.oneof(num, anything),
    maxLength: fc.oneof(num, anything), buffer: fc.oneof(num, anything), factor: fc.oneof(num, anything),
    preset: fc.oneof(fc.constantFrom('verl', 'openrlhf', 'paper'), anything),
  }, { requiredKeys: [] });
  for (const backend of ['js', ...available] as const) {
    await fc.assert(fc.asyncProperty(arb, fc.constantFrom<Est | 'overlong'>('reinforce', 'gae-verl', 'remax', 'overlong'), async (opts, est) => {
      try {
        if (est === 'overlong') assert.instance((await overlongPenalty({ ...opts, backend } as never)).penalties, Float32Array);
        else assert.instance((await runEst(est, { ...opts, backend })).advantages, Float32Array);
      } catch (e) {
        if (!(e instanceof RewardkitError)) throw e;
      }
    }), { numRuns: backend === 'webgpu' ? 150 : 300, seed: 7 });
  }
});

test.after(() => disposeDefaultContext());
test.run();
