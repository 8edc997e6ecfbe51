/**
 * tokenLogProbs and entropyLoss: the JS reference against exact math and verl's conformance vectors,
 * then native and WebGPU against the JS reference (f32 and bf16, many shapes, edge cases, binding
 * splits), typed errors and a fuzz.
 *
 * Tolerances (|a − e| <= abs + rel·|e|; NaN must match NaN, ±inf must match exactly):
 * - JS reference vs a naive two-pass f64 formula: rel 2e-7, abs 1e-7 — both are f64 to ~1e-15 and
 *   then rounded to f32, so they may differ by one f32 rounding (2^-24 relative) only.
 * - native vs JS: rel 1e-5, abs 1e-5. The addon forms z − m and e^(z−m) in f32 (Cephes expf, ~1 ulp)
 *   and sums 64 terms per lane in f32 before adding blocks in f64: s and w carry ~64·2^-24 ≈ 4e-6
 *   relative error at worst (typically ~3e-7), which becomes an absolute error of log s in logp and
 *   H; the outputs are f32 (rel 6e-8).
 * - WebGPU vs JS: rel 2e-5, abs 5e-5. Each of 256 threads sums V/256 terms sequentially in f32
 *   (1,024 terms at V = 262,144: ≤ 6e-5 relative at worst, ~2e-6 typically) and WGSL only bounds
 *   exp to 3 + 2|x| ulp; measured differences on lavapipe stay below 2e-6.
 * - verl conformance (torch f32): entropy rel 1e-5, abs 2e-6·max(1, max|z|). torch computes
 *   logsumexp − Σ softmax·z in f32, so H loses ~|lse|·2^-24 per rounding to the cancellation of two
 *   numbers of size max|z| (the `scaled10` cases reach |z| ≈ 40). Losses: rel 1e-5, abs 1e-6
 *   (an f32 mean of f32 values).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fc from 'fast-check';
import {
  createContext, disposeDefaultContext, entropyLoss, gpuStatus, nativeStatus, RewardkitError, tokenLogProbs,
  type GpuContext, type TokenLogProbsOptions,
} from '../lib/index.js';
import { loadNative } from '../lib/backends/native.js';
import { decode, fixture, isCI, mismatch, rng } from './helpers.js';

type Concrete = 'js' | 'native' | 'webgpu';
const TOL: Record<Concrete, { rel: number; abs: number }> = {
  js: { rel: 2e-7, abs: 1e-7 },
  native: { rel: 1e-5, abs: 1e-5 },
  webgpu: { rel: 2e-5, abs: 5e-5 },
};

// ---------------------------------------------------------------------------------------------
// Family helpers.

/** f32 → bf16 bits, round to nearest even (NaN stays NaN). */
function toBf16(x: Float32Array): Uint16Array {
  const u = new Uint32Array(x.buffer, x.byteOffset, x.length), out = new Uint16Array(x.length);
  for (let i = 0; i < x.length; i++) {
    const b = u[i]!;
    out[i] = (b & 0x7fffffff) > 0x7f800000 ? (b >>> 16) | 0x40 : (b + 0x7fff + ((b >>> 16) & 1)) >>> 16;
  }
  return out;
}

/** bf16 bits → f32 values. */
function fromBf16(b: Uint16Array): Float32Array {
  const u = new Uint32Array(b.length);
  for (let i = 0; i < b.length; i++) u[i] = b[i]! << 16;
  return new Float32Array(u.buffer);
}

interface LogitsCase { logits: Float32Array; labels: Int32Array; N: number; V: number }

/** Gaussian-ish logits of scale `scale` (sum of uniforms: cheap), labels uniform over V. */
function randomLogits(seed: number, N: number, V: number, scale = 3): LogitsCase {
  const r = rng(seed);
  const logits = new Float32Array(N * V);
  for (let i = 0; i < logits.length; i++) logits[i] = (r() + r() + r() - 1.5) * 2 * scale;
  const labels = Int32Array.from({ length: N }, () => Math.floor(r() * V));
  return { logits, labels, N, V };
}

/** Exact math, two passes in f64: log_softmax + gather and −Σ p·log p. */
function naive(z: Float32Array, N: number, V: number, labels: ArrayLike<number>): { logp: Float32Array; entropy: Float32Array } {
  const logp = new Float32Array(N), entropy = new Float32Array(N);
  for (let r = 0; r < N; r++) {
    let m = -Infinity;
    for (let i = 0; i < V; i++) m = Math.max(m, z[r * V + i]!);
    let s = 0;
    for (let i = 0; i < V; i++) s += Math.exp(z[r * V + i]! - m);
    const lse = m + Math.log(s);
    let h = 0;
    for (let i = 0; i < V; i++) { const lp = z[r * V + i]! - lse, p = Math.exp(lp); if (p > 0) h -= p * lp; }
    logp[r] = z[r * V + labels[r]!]! - lse;
    entropy[r] = h;
  }
  return { logp, entropy };
}

async function run(backend: Concrete, o: Omit<TokenLogProbsOptions, 'backend'>, context?: GpuContext) {
  return tokenLogProbs({ ...o, backend, ...(context ? { context } : {}) });
}

/** `backend` agrees with js on logp and entropy within its tolerance. */
async function agree(backend: Concrete, o: Omit<TokenLogProbsOptions, 'backend'>, what: string, context?: GpuContext): Promise<void> {
  const ref = await run('js', o);
  const got = await run(backend, o, context);
  const { rel, abs } = TOL[backend];
  if (ref.logProbs) assert.is(mismatch(got.logProbs!, ref.logProbs, rel, abs), '', `${backend} logp ${what}`);
  if (ref.entropy) assert.is(mismatch(got.entropy!, ref.entropy, rel, abs), '', `${backend} entropy ${what}`);
  assert.is(got.backend, backend);
}

const SHAPES: Array<[number, number]> = [[1, 1], [3, 5], [17, 1000], [64, 32000], [4, 262144], [2, 1001], [5, 7]];

/** Edge rows layered on random logits: masked, huge, all-equal, NaN, +inf, all −inf. */
function edgeCase(seed: number, V: number): { logits: Float32Array; labels: Int32Array; N: number; V: number } {
  const N = 8;
  const { logits, labels } = randomLogits(seed, N, V);
  const row = (r: number) => logits.subarray(r * V, (r + 1) * V);
  const r = rng(seed + 1);
  for (let i = 0; i < V; i++) if (r() < 0.5 && i !== labels[0]) row(0)[i] = -Infinity; // vocabulary masking
  for (let i = 0; i < V; i++) if (i !== 3 % V) row(1)[i] = -Infinity; // one allowed token
  labels[1] = 3 % V;
  row(2)[Math.floor(V / 2)] = 1e30; // one huge logit
  row(3).fill(0.25); // all equal: H = log V
  row(4)[V - 1] = NaN;
  row(5)[0] = Infinity;
  row(6).fill(-Infinity);
  if (V > 1) { row(7)[1] = -Infinity; labels[7] = 1; } // the label itself masked: logp −inf
  return { logits, labels, N, V };
}

// ---------------------------------------------------------------------------------------------
// The JS reference.

test('js reference equals exact two-pass math (f32 and bf16, several shapes)', async () => {
  for (const [i, [N, V]] of SHAPES.filter(([n, v]) => n * v <= 1 << 20).entries()) {
    const c = randomLogits(10 + i, N, V, i % 2 ? 10 : 3);
    for (const logits of [c.logits, toBf16(c.logits)]) {
      const z = logits instanceof Float32Array ? logits : fromBf16(logits);
      const exact = naive(z, N, V, c.labels);
      const got = await run('js', { logits, shape: [N, V], labels: c.labels });
      assert.is(mismatch(got.logProbs!, exact.logp, 2e-7, 1e-7), '', `logp ${N}x${V}`);
      assert.is(mismatch(got.entropy!, exact.entropy, 2e-7, 1e-7), '', `entropy ${N}x${V}`);
    }
  }
});

test('js reference: −inf masking is exact, huge and all-equal rows, non-finite rows', async () => {
  const V = 1000;
  const c = edgeCase(3, V);
  const got = await run('js', { logits: c.logits, shape: [c.N, V], labels: c.labels });
  // Row 0: the same as the row with its −inf entries removed (label re-indexed).
  const row0 = c.logits.subarray(0, V), kept = row0.filter((x) => x !== -Infinity);
  const y = row0.subarray(0, c.labels[0]).filter((x) => x !== -Infinity).length;
  const exact0 = naive(kept, 1, kept.length, [y]);
  assert.is(mismatch([got.logProbs![0]!, got.entropy![0]!], [exact0.logp[0]!, exact0.entropy[0]!], 2e-7, 1e-7), '');
  assert.equal([got.logProbs![1], got.entropy![1]], [0, 0]); // a single allowed token: p = 1
  assert.is(got.entropy![2], 0); // 1e30 dominates: H = 0, its logp 0, the others ≈ −1e30
  assert.ok(Math.abs(got.entropy![3]! - Math.log(V)) < 1e-6 && Math.abs(got.logProbs![3]! + Math.log(V)) < 1e-6);
  assert.ok(Number.isNaN(got.logProbs![4]) && Number.isNaN(got.entropy![4]), 'NaN propagates');
  assert.ok(Number.isNaN(got.logProbs![5]) && Number.isNaN(got.entropy![5]), '+inf gives NaN');
  assert.is(got.logProbs![6], -Infinity); // all −inf: no distribution
  assert.ok(Number.isNaN(got.entropy![6]));
  assert.is(got.logProbs![7], -Infinity); // the label's logit is −inf
  assert.ok(Number.isFinite(got.entropy![7]));
});

test('temperature divides the logits first, in f32 (as verl logits.div_(temperature))', async () => {
  const c = randomLogits(5, 9, 777);
  for (const T of [0.6, 1.7]) {
    const scaled = c.logits.map((x) => Math.fround(x / Math.fround(T)));
    const a = await run('js', { logits: c.logits, shape: [9, 777], labels: c.labels, temperature: T });
    const b = await run('js', { logits: scaled, shape: [9, 777], labels: c.labels });
    assert.equal([...a.logProbs!], [...b.logProbs!]);
    assert.equal([...a.entropy!], [...b.entropy!]);
  }
});

test('entropy: false gives log-probs only; no labels gives entropy only; out arrays are filled', async () => {
  const c = randomLogits(6, 4, 50);
  const a = await run('js', { logits: c.logits, shape: [4, 50], labels: c.labels, entropy: false });
  assert.ok(a.logProbs && a.entropy === undefined);
  const out = new Float32Array(4);
  const b = await run('js', { logits: c.logits, shape: [4, 50], out: { entropy: out } });
  assert.ok(b.logProbs === undefined && b.entropy === out);
});

// ---------------------------------------------------------------------------------------------
// verl conformance.

const tf = fixture('conformance/verl/verl_torch_functional.json');
const tensor = (t: { data: Array<number | string> }) => Float32Array.from(decode(t.data));

test('js reference matches every verl entropy_from_logits / _with_chunking / compute_entropy_loss vector', async () => {
  let checked = 0;
  for (const c of tf.cases) {
    const lg = c.inputs.logits, [B, T, V] = lg.shape as number[];
    const logits = tensor(lg);
    let maxAbs = 0;
    for (const x of logits) maxAbs = Math.max(maxAbs, Math.abs(x));
    const { entropy } = await run('js', { logits, shape: [B! * T!, V!] });
    for (const call of c.calls) {
      const fn = call.function as string;
      if (fn.endsWith('entropy_from_logits') || fn.endsWith('entropy_from_logits_with_chunking')) {
        const want = decode(call.outputs.entropy.data);
        const bad = mismatch(entropy!, want, 1e-5, 2e-6 * Math.max(1, maxAbs));
        assert.is(bad, '', `${c.id} ${fn}`);
        checked++;
      } else if (fn.endsWith('compute_entropy_loss')) {
        const loss = entropyLoss({ entropy: entropy!, mask: tensor(c.inputs.mask), shape: [B!, T!], aggregation: call.params.loss_agg_mode });
        assert.is(mismatch([loss], decode(call.outputs.entropy_loss.data), 1e-5, 1e-6), '', `${c.id} ${fn} ${call.params.loss_agg_mode}`);
        checked++;
      }
    }
  }
  assert.is(checked, 32);
});

test('entropyLoss aggregation matches verl agg_loss (token-mean, seq-mean-token-mean; NaN on padding, empty rows)', () => {
  const agg = fixture('conformance/verl/verl_agg_loss.json');
  let checked = 0;
  for (const c of agg.cases) {
    const [B, T] = c.inputs.loss_mat.shape as number[];
    for (const call of c.calls) {
      const mode = call.params.loss_agg_mode;
      if (Object.keys(call.params).length !== 1 || (mode !== 'token-mean' && mode !== 'seq-mean-token-mean')) continue;
      const loss = entropyLoss({ entropy: tensor(c.inputs.loss_mat), mask: tensor(c.inputs.loss_mask), shape: [B!, T!], aggregation: mode });
      assert.is(mismatch([loss], decode(call.outputs.loss.data), 1e-5, 1e-6), '', `${c.id} ${mode}`);
      checked++;
    }
  }
  assert.ok(checked >= 20, `${checked} agg_loss vectors`);
});

test('entropyLoss: packed layout, all-masked → NaN, typed errors', () => {
  const h = Float32Array.from([1, 2, 3, 4, 5]);
  assert.is(entropyLoss({ entropy: h, offsets: [0, 2, 2, 5] }), Math.fround(3));
  assert.is(entropyLoss({ entropy: h, offsets: [0, 2, 2, 5], aggregation: 'seq-mean-token-mean' }), Math.fround((1.5 + 4) / 2));
  assert.ok(Number.isNaN(entropyLoss({ entropy: h, mask: new Uint8Array(5), shape: [1, 5] })));
  for (const [o, arg] of [
    [{ entropy: h, mask: new Uint8Array(4), shape: [1, 4] }, 'entropy'],
    [{ entropy: h, mask: new Uint8Array(5), shape: [1, 5], aggregation: 'seq-mean-token-sum' }, 'aggregation'],
    [{ entropy: 'x', offsets: [0, 5] }, 'entropy'],
    [{ entropy: h }, 'mask'],
  ] as const) {
    try { entropyLoss(o as never); assert.unreachable(); } catch (e: any) { assert.instance(e, RewardkitError); assert.is(e.argument, arg); }
  }
});

// ---------------------------------------------------------------------------------------------
// Backends against the JS reference.

function backendSuite(backend: 'native' | 'webgpu'): void {
  test(`${backend}: f32 and bf16 random logits of many shapes agree with js`, async () => {
    for (const [i, [N, V]] of SHAPES.entries()) {
      const c = randomLogits(100 + i, N, V, i % 3 ? 3 : 12);
      for (const logits of [c.logits, toBf16(c.logits)]) {
        await agree(backend, { logits, shape: [N, V], labels: c.labels }, `${N}x${V} ${logits.constructor.name}`);
      }
    }
  });

  test(`${backend}: temperature, entropy only, log-probs only`, async () => {
    const c = randomLogits(7, 33, 3001);
    for (const logits of [c.logits, toBf16(c.logits)]) {
      await agree(backend, { logits, shape: [33, 3001], labels: c.labels, temperature: 0.7 }, 'T=0.7');
      await agree(backend, { logits, shape: [33, 3001], temperature: 1.3 }, 'entropy only');
      await agree(backend, { logits, shape: [33, 3001], labels: Uint32Array.from(c.labels), entropy: false }, 'logp only');
    }
  });

  test(`${backend}: −inf masking, huge logit, all-equal, NaN, +inf and all −inf rows`, async () => {
    for (const V of [1, 2, 31, 1000, 40000]) {
      const c = edgeCase(20 + V, V);
      for (const logits of [c.logits, toBf16(c.logits)]) {
        await agree(backend, { logits, shape: [c.N, V], labels: c.labels }, `edge V=${V} ${logits.constructor.name}`);
      }
    }
  });
}

const native = nativeStatus();
if (native.available) {
  backendSuite('native');
  test('native: 1,048,576 tokens (V = 8) agree with js', async () => {
    const c = randomLogits(9, 1 << 20, 8);
    await agree('native', { logits: c.logits, shape: [1 << 20, 8], labels: c.labels }, '1M×8');
  });
  test('native: the addon itself rejects malformed arguments (below the TypeScript checks)', async () => {
    const addon = loadNative() as unknown as Record<string, (a: object) => Promise<unknown>>;
    const good = { rows: 2, vocab: 3, bf16: false, logitsF32: new Float32Array(6), logitsBf16: null, labels: Uint32Array.from([0, 2]), temperature: 1, outLogProbs: new Float32Array(2), outEntropy: new Float32Array(2) };
    await addon['tokenLogProbs']!(good);
    for (const bad of [
      { logitsF32: new Float32Array(5) }, { vocab: 0 }, { rows: -1 }, { labels: Uint32Array.from([0, 3]) },
      { labels: Int32Array.from([0, 1]) }, { temperature: 0 }, { temperature: NaN }, { outEntropy: new Float32Array(3) },
      { bf16: true }, { bf16: true, logitsBf16: new Uint16Array(5) }, { labels: null },
    ]) {
      let threw = false;
      try { await addon['tokenLogProbs']!({ ...good, ...bad }); } catch (e) { threw = e instanceof TypeError || e instanceof RangeError; }
      assert.ok(threw, JSON.stringify(Object.keys(bad)));
    }
  });
} else if (isCI) {
  test('native addon is available in CI', () => assert.unreachable(`native unavailable: ${native.reason}`));
} else {
  console.error(`\n!!! SKIPPING native logits tests: ${native.reason}\n`);
}

const gpu = await gpuStatus();
if (gpu.available) {
  backendSuite('webgpu');

  test('webgpu: a 64 KiB binding cap splits rows into chunks, and rows larger than a binding into segments', async () => {
    const small = await createContext({ maxBindingSize: 65536 });
    try {
      for (const [N, V, seed] of [[17, 2000, 1], [40, 1001, 2], [4, 262144, 3], [3, 40001, 4], [600, 3, 5]] as const) {
        const c = randomLogits(300 + seed, N, V);
        for (const logits of [c.logits, toBf16(c.logits)]) {
          assert.ok(logits.byteLength > 65536 || N === 600); // the 600 rows split on the partials' binding
          await agree('webgpu', { logits, shape: [N, V], labels: c.labels }, `split ${N}x${V} ${logits.constructor.name}`, small);
        }
      }
      const e = edgeCase(77, 20000);
      await agree('webgpu', { logits: e.logits, shape: [e.N, e.V], labels: e.labels }, 'split edge rows', small);
    } finally { small.dispose(); }
  });

  test('webgpu: logits larger than the adapter binding limit (128 MiB on lavapipe) are split, not refused', async () => {
    const limit = gpu.adapter!.limits['maxStorageBufferBindingSize']!;
    const V = 262144, N = Math.floor(limit / (V * 4)) + 1;
    if (N * V > 2 ** 28) { console.log(`  skipped: binding limit ${limit} needs ${N} rows of ${V}`); return; }
    const c = randomLogits(55, N, V);
    assert.ok(c.logits.byteLength > limit);
    await agree('webgpu', { logits: c.logits, shape: [N, V], labels: c.labels }, `${N}x${V} > binding`);
  });
} else if (isCI) {
  test('webgpu is available in CI', () => assert.unreachable(`webgpu unavailable: ${gpu.reason}`));
} else {
  console.error(`\n!!! SKIPPING webgpu logits tests: ${gpu.reason}\n`);
}

// ---------------------------------------------------------------------------------------------
// Errors and fuzz.

test('malformed inputs raise RewardkitErrors naming the argument', async () => {
  const logits = new Float32Array(6);
  const cases: Array<[object, string, string]> = [
    [{ logits: [1, 2], shape: [1, 2] }, 'logits', 'E_DTYPE'],
    [{ logits: new Float64Array(6), shape: [2, 3] }, 'logits', 'E_DTYPE'],
    [{ logits, shape: [2, 3], dtype: 'bf16' }, 'logits', 'E_DTYPE'],
    [{ logits, shape: [2, 3], dtype: 'f16' }, 'dtype', 'E_VALUE'],
    [{ logits, shape: [2, 4] }, 'logits', 'E_SHAPE'],
    [{ logits, shape: [6] }, 'shape', 'E_SHAPE'],
    [{ logits, shape: [0, 6] }, 'shape[0]', 'E_VALUE'],
    [{ logits, shape: [2, 3], labels: [0, 3] }, 'labels[1]', 'E_RANGE'],
    [{ logits, shape: [2, 3], labels: Int32Array.from([-1, 0]) }, 'labels[0]', 'E_RANGE'],
    [{ logits, shape: [2, 3], labels: [0] }, 'labels', 'E_SHAPE'],
    [{ logits, shape: [2, 3], labels: [0, 1.5] }, 'labels[1]', 'E_VALUE'],
    [{ logits, shape: [2, 3], temperature: 0 }, 'temperature', 'E_VALUE'],
    [{ logits, shape: [2, 3], temperature: NaN }, 'temperature', 'E_VALUE'],
    [{ logits, shape: [2, 3], entropy: false }, 'entropy', 'E_VALUE'],
    [{ logits, shape: [2, 3], entropy: 1 }, 'entropy', 'E_VALUE'],
    [{ logits, shape: [2, 3], out: { entropy: new Float32Array(3) } }, 'out.entropy', 'E_SHAPE'],
    [{ logits, shape: [2, 3], out: { logProbs: new Float32Array(2) } }, 'out.logProbs', 'E_VALUE'],
    [{ logits, shape: [2, 3], backend: 'cuda' }, 'backend', 'E_VALUE'],
  ];
  for (const [o, argument, code] of cases) {
    try {
      await tokenLogProbs(o as never);
      assert.unreachable(`accepted ${JSON.stringify(o)}`);
    } catch (e: any) {
      assert.instance(e, RewardkitError);
      assert.is(e.argument, argument, e.message);
      assert.is(e.code, code, e.message);
      assert.match(e.message, /Expected .+ but received /);
    }
  }
});

const fuzzBackends: Concrete[] = ['js'];
if (native.available) fuzzBackends.push('native');
if (gpu.available) fuzzBackends.push('webgpu');
const num = fc.oneof(fc.integer({ min: -3, max: 12 }), fc.double(), fc.constantFrom(NaN, Infinity, -Infinity, 0.5, -0, 2 ** 31));
const anything = fc.oneof(fc.constant(undefined), fc.constant(null), fc.string(), num, fc.boolean(), fc.object());
const chaotic = fc.record({
  logits: fc.oneof(
    fc.array(fc.oneof(fc.double(), fc.constantFrom(-Infinity, Infinity, NaN, 1e30)), { maxLength: 40 }).map((a) => Float32Array.from(a)),
    fc.array(fc.integer({ min: 0, max: 0xffff }), { maxLength: 40 }).map((a) => Uint16Array.from(a)),
    anything,
  ),
  dtype: fc.oneof(fc.constantFrom('f32', 'bf16', 'f16'), anything),
  shape: fc.oneof(fc.tuple(num, num), fc.tuple(fc.integer({ min: 0, max: 8 }), fc.integer({ min: 0, max: 8 })), anything),
  labels: fc.oneof(fc.array(fc.integer({ min: -2, max: 9 }), { maxLength: 10 }), fc.array(fc.integer({ min: 0, max: 9 }), { maxLength: 10 }).map((a) => Uint32Array.from(a)), anything),
  entropy: fc.oneof(fc.boolean(), anything),
  temperature: fc.oneof(num, anything),
}, { requiredKeys: [] });
// Mostly well-formed: shapes that fit, edge values (±inf, NaN, 1e30, bf16 NaN/inf bit patterns),
// labels sometimes out of range, temperatures sometimes invalid.
const special = fc.oneof(fc.double({ min: -50, max: 50, noNaN: true }), fc.constantFrom(-Infinity, Infinity, NaN, 1e30, -1e30, -0));
const shaped = fc.tuple(fc.integer({ min: 1, max: 6 }), fc.integer({ min: 1, max: 9 }), fc.boolean()).chain(([N, V, bf16]) => fc.record({
  logits: bf16
    ? fc.array(fc.oneof(fc.integer({ min: 0, max: 0xffff }), fc.constantFrom(0x7f80, 0xff80, 0x7fc0)), { minLength: N * V, maxLength: N * V }).map((a) => Uint16Array.from(a))
    : fc.array(special, { minLength: N * V, maxLength: N * V }).map((a) => Float32Array.from(a)),
  shape: fc.constant([N, V] as [number, number]),
  labels: fc.oneof(
    { arbitrary: fc.array(fc.integer({ min: 0, max: V - 1 }), { minLength: N, maxLength: N }), weight: 4 },
    { arbitrary: fc.array(fc.integer({ min: -1, max: V }), { minLength: N, maxLength: N }), weight: 1 },
    { arbitrary: fc.constant(undefined), weight: 2 }),
  entropy: fc.oneof({ arbitrary: fc.constant(true), weight: 3 }, { arbitrary: fc.constant(false), weight: 1 }),
  temperature: fc.oneof({ arbitrary: fc.constantFrom(1, 0.5, 2, undefined), weight: 4 }, { arbitrary: fc.constantFrom(0, -1, NaN), weight: 1 }),
}, { requiredKeys: ['logits', 'shape', 'entropy'] }));
const fuzzOptions = fc.oneof({ arbitrary: shaped, weight: 3 }, { arbitrary: chaotic, weight: 1 });

for (const backend of fuzzBackends) {
  test(`fuzz ${backend}: 300 random inputs, zero crashes, only RewardkitErrors`, async () => {
    let accepted = 0;
    await fc.assert(fc.asyncProperty(fuzzOptions, async (o) => {
      try {
        const r = await tokenLogProbs({ ...(o as object), backend } as never);
        accepted++;
        if (backend === 'js') return (r.logProbs ?? r.entropy) instanceof Float32Array;
        // Accepted inputs (edge values included) must also agree with the reference.
        const ref = await tokenLogProbs({ ...(o as object), backend: 'js' } as never);
        const { rel, abs } = TOL[backend];
        return mismatch(r.logProbs ?? [], ref.logProbs ?? [], rel, abs) === '' && mismatch(r.entropy ?? [], ref.entropy ?? [], rel, abs) === '';
      } catch (e) {
        if (!(e instanceof RewardkitError)) throw e;
        return /Expected .+ but received |unavailable/.test(e.message);
      }
    }), { numRuns: 300, seed: 777 });
    console.log(`  ${backend}: ${accepted} of 300 inputs were valid and computed`);
  });
}

test.after(() => disposeDefaultContext());
test.run();
