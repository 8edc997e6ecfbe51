/**
 * Reward heads, the JS reference and everything around it: pooling (transformers / OpenRLHF / PAR
 * conventions, left and right padding, all-pad rows, NaN in padding), the heads' math against a
 * hand-written evaluation, the reward_heads conformance vectors, OpenRLHF normalisation, the
 * safetensors reader (valid files, f16/bf16 weights, every corruption it must reject), typed errors
 * and a fuzz of malformed options. Backends against this reference: test/heads-backends.test.ts.
 *
 * Tolerances:
 * - pooling indices: exact.
 * - JS reference vs the hand-written f64 evaluation: rel 1e-6·(Σ|terms|)/|r| — both are f64, then
 *   rounded to f32 once (2^-24 relative); the hand evaluation sums in another order.
 * - conformance (float64 vectors, tolerance 1e-12 meant for a float64 port): rewardkit takes f32
 *   weights and states and returns f32, so its inputs are rounded to f32 (2^-24 relative each) and
 *   so is its output: bound 3·2^-24·Σ_i|w2_i|·1.13·(|b1_i| + Σ_j|W1_ij·h_j|) + 2^-24·|r| + 1e-12.
 * - normalisation: rel 1e-6 (f64 arithmetic on f32 scores, rounded to f32).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fc from 'fast-check';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadHead, pooledIndex, readSafetensors, RewardkitError, scoreHeads, type RewardHead, type ScoreHeadsOptions } from '../lib/index.js';
import { erf } from '../lib/scoring/heads.ref.js';
import { f16Value } from '../lib/scoring/heads.dtype.js';
import { fixture, mismatch, rng } from './helpers.js';
import { encode, f32Bytes, randomFloats, randomHeads, safetensorsBytes, toF16, u16Bytes, withHeader, U } from './heads-helpers.js';

async function rejects(fn: () => Promise<unknown> | unknown, code: string, argument?: string | RegExp): Promise<void> {
  try {
    await fn();
  } catch (err) {
    assert.instance(err, RewardkitError, `${String(err)}`);
    const e = err as RewardkitError;
    assert.is(e.code, code, e.message);
    if (typeof argument === 'string') assert.is(e.argument, argument, e.message);
    else if (argument) assert.match(e.argument ?? '', argument, e.message);
    return;
  }
  assert.unreachable(`expected ${code}`);
}

// ---------------------------------------------------------------------------------------------
// Pooling.

test('pooling: transformers rightmost non-pad, left and right padding, all-pad → 0', () => {
  const ids = [5, 6, 7, 0, 0, /**/ 0, 0, 5, 6, 7, /**/ 0, 0, 0, 0, 0, /**/ 9, 0, 0, 0, 0, /**/ 0, 3, 0, 4, 0];
  assert.equal([...pooledIndex({ kind: 'last', inputIds: ids, padTokenId: 0 }, [5, 5])], [2, 4, 0, 0, 3]);
  // pad == eos: a trailing EOS is skipped, as transformers does.
  assert.equal([...pooledIndex({ kind: 'last', inputIds: Int32Array.from([1, 2, 2, 2]), padTokenId: 2 }, [1, 4])], [0]);
});

test('pooling: OpenRLHF rightmost mask entry, all-zero → T − 1; PAR labels != -100', () => {
  const mask = Uint8Array.from([1, 1, 0, 0, /**/ 0, 1, 1, 1, /**/ 0, 0, 0, 0, /**/ 0, 1, 0, 1]);
  assert.equal([...pooledIndex({ kind: 'mask', mask }, [4, 4])], [1, 3, 3, 3]);
  assert.equal([...pooledIndex({ kind: 'mask', mask: Float32Array.from(mask) }, [4, 4])], [1, 3, 3, 3]);
});

test('conformance: reward_heads pooling cases', () => {
  const suite = fixture('conformance/scoring/reward_heads.json');
  for (const c of suite.cases) {
    if (c.id === 'last_token.transformers') {
      const ids: number[][] = c.inputs.input_ids;
      const got = pooledIndex({ kind: 'last', inputIds: ids.flat(), padTokenId: c.inputs.pad_token_id }, [ids.length, ids[0]!.length]);
      assert.equal([...got], c.outputs.index, c.id);
    } else if (c.id === 'last_token.par') {
      const labels: number[][] = c.inputs.labels;
      const mask = Uint8Array.from(labels.flat(), (l) => (l !== -100 ? 1 : 0));
      assert.equal([...pooledIndex({ kind: 'mask', mask }, [labels.length, labels[0]!.length])], c.outputs.index, c.id);
    }
  }
});

test('pooling on [B, T, H]: the selected token / masked mean feed the head; NaN in padding never leaks', async () => {
  const B = 3, T = 4, H = 2;
  const hidden = new Float32Array(B * T * H).fill(NaN);
  // Row 0 right-padded (tokens 0-1), row 1 left-padded (tokens 2-3), row 2 all padding.
  hidden.set([1, 2, 3, 4], 0);
  hidden.set([5, 6, 7, 8], (1 * T + 2) * H);
  const mask = Uint8Array.from([1, 1, 0, 0, 0, 0, 1, 1, 0, 0, 0, 0]);
  const ids = Int32Array.from(mask, (m, i) => (m ? 10 + i : 0));
  const heads: RewardHead = { kind: 'linear', weight: [1, 10], bias: 0.5 };
  const last = await scoreHeads({ hidden, shape: [B, T, H], pooling: { kind: 'last', inputIds: ids, padTokenId: 0 }, heads, backend: 'js' });
  assert.equal([...last.index!], [1, 3, 0]);
  assert.equal([...last.scores.slice(0, 2)], [3 + 40 + 0.5, 7 + 80 + 0.5]);
  assert.ok(Number.isNaN(last.scores[2]!), 'an all-pad row reads token 0, which is padding here: NaN, as transformers would');
  const viaMask = await scoreHeads({ hidden, shape: [B, T, H], pooling: { kind: 'mask', mask }, heads, backend: 'js' });
  assert.equal([...viaMask.index!], [1, 3, 3]);
  const mean = await scoreHeads({ hidden, shape: [B, T, H], pooling: { kind: 'mean', mask }, heads, backend: 'js' });
  assert.equal([...mean.scores], [2 + 30 + 0.5, 6 + 70 + 0.5, 0.5], 'masked tokens skipped; an empty row pools to zeros');
});

// ---------------------------------------------------------------------------------------------
// The heads' math.

/** The heads written out by hand, in f64, with plain Math: an independent evaluation. */
function byHand(hidden: Float32Array, B: number, H: number, heads: RewardHead[]): { r: number[]; scale: number[] } {
  const r: number[] = [], scale: number[] = [];
  for (const head of heads) {
    for (let b = 0; b < B; b++) {
      const h = Array.from(hidden.subarray(b * H, (b + 1) * H));
      if (head.kind === 'linear') {
        const terms = h.map((x, j) => x * Number(head.weight[j]));
        r.push(terms.reduce((a, t) => a + t, head.bias ?? 0));
        scale.push(terms.reduce((a, t) => a + Math.abs(t), Math.abs(head.bias ?? 0)));
        continue;
      }
      const W = head.w2.length;
      let out = head.b2 ?? 0, s = Math.abs(out);
      for (let i = 0; i < W; i++) {
        let z = head.b1 ? Number(head.b1[i]) : 0;
        for (let j = 0; j < H; j++) z += Number(head.w1[i * H + j]) * h[j]!;
        const act = head.activation ?? 'silu';
        const a = act === 'silu' ? z / (1 + Math.exp(-z)) : act === 'relu' ? Math.max(z, 0) : act === 'tanh' ? Math.tanh(z) : 0.5 * z * (1 + erf(z / Math.SQRT2));
        out += Number(head.w2[i]) * a;
        s += Math.abs(Number(head.w2[i]) * a) + Math.abs(z);
      }
      r.push(out);
      scale.push(s);
    }
  }
  return { r, scale };
}

test('erf: exact values and symmetry (GELU is the exact erf form)', () => {
  const known: Array<[number, number]> = [[0, 0], [0.5, 0.5204998778130465], [1, 0.8427007929497149], [2, 0.9953222650189527], [2.5, 0.9995930479825550], [3, 0.9999779095030014], [4, 0.9999999845827421]];
  for (const [x, e] of known) {
    assert.ok(Math.abs(erf(x) - e) < 2e-15, `erf(${x}) = ${erf(x)}`);
    assert.ok(Math.abs(erf(-x) + e) < 2e-15);
  }
  assert.is(erf(10), 1);
  assert.ok(Number.isNaN(erf(NaN)));
});

test('JS reference = the heads by hand: linear ± bias, MLP × activations, K heads, B = 1', async () => {
  for (const [seed, B, H, K] of [[1, 1, 1, 1], [2, 5, 7, 3], [3, 17, 33, 6], [4, 1, 64, 16]] as const) {
    const r = rng(seed);
    const hidden = randomFloats(r, B * H);
    const heads = randomHeads(r, K, H, 12);
    const got = await scoreHeads({ hidden, shape: [B, H], heads, backend: 'js' });
    const { r: want, scale } = byHand(hidden, B, H, heads);
    assert.is(got.scores.length, K * B);
    assert.is(got.heads, K);
    assert.is(got.rows, B);
    for (let i = 0; i < want.length; i++) {
      assert.ok(Math.abs(got.scores[i]! - want[i]!) <= 1e-6 * scale[i]! + U * Math.abs(want[i]!), `seed ${seed} [${i}] ${got.scores[i]} vs ${want[i]}`);
    }
  }
});

test('f16 and bf16 hidden states are read exactly', async () => {
  const r = rng(9);
  const B = 4, H = 10;
  const values = randomFloats(r, B * H);
  const heads = randomHeads(r, 3, H, 5);
  for (const dtype of ['f16', 'bf16'] as const) {
    const bits = encode(values, dtype) as Uint16Array;
    const widened = Float32Array.from(bits, (b) => (dtype === 'f16' ? f16Value(b) : new Float32Array(new Uint32Array([b << 16]).buffer)[0]!));
    const a = await scoreHeads({ hidden: bits, dtype, shape: [B, H], heads, backend: 'js' });
    const b = await scoreHeads({ hidden: widened, shape: [B, H], heads, backend: 'js' });
    assert.equal([...a.scores], [...b.scores], dtype);
  }
  // f16 specials: subnormal, max, inf.
  assert.is(f16Value(0x0001), 2 ** -24);
  assert.is(f16Value(0x7bff), 65504);
  assert.is(f16Value(0xfc00), -Infinity);
  assert.is(f16Value(toF16(1.5)), 1.5);
});

test('conformance: mlp2_silu_head (BaseReward-style two-layer SiLU head)', async () => {
  const c = fixture('conformance/scoring/reward_heads.json').cases.find((x: { id: string }) => x.id === 'mlp2_silu_head');
  const hLast: number[][] = c.inputs.h_last, W1: number[][] = c.inputs.W1; // W1 is [D, width] (x @ W1)
  const B = hLast.length, D = hLast[0]!.length, W = W1[0]!.length;
  const w1 = new Float32Array(W * D); // torch layout [width, D]
  for (let i = 0; i < W; i++) for (let j = 0; j < D; j++) w1[i * D + j] = W1[j]![i]!;
  const got = await scoreHeads({
    hidden: Float32Array.from(hLast.flat()), shape: [B, D], backend: 'js',
    heads: { kind: 'mlp', w1, b1: c.inputs.b1, w2: c.inputs.W2, b2: c.inputs.b2, activation: 'silu' },
  });
  const want: number[] = c.outputs.reward;
  for (let b = 0; b < B; b++) {
    let s = 0;
    for (let i = 0; i < W; i++) {
      let t = Math.abs(c.inputs.b1[i]);
      for (let j = 0; j < D; j++) t += Math.abs(W1[j]![i]! * hLast[b]![j]!);
      s += Math.abs(c.inputs.W2[i]) * 1.13 * t;
    }
    const bound = 3 * U * s + U * Math.abs(want[b]!) + c.tolerance.abs;
    assert.ok(Math.abs(got.scores[b]! - want[b]!) <= bound, `row ${b}: ${got.scores[b]} vs ${want[b]} (bound ${bound})`);
  }
});

test('OpenRLHF normalisation: batch (r − mean)/std_u.clamp(1e-8), stored mean/std per head', async () => {
  const r = rng(5);
  const B = 9, H = 6;
  const hidden = randomFloats(r, B * H);
  const heads = randomHeads(r, 2, H, 4);
  const raw = (await scoreHeads({ hidden, shape: [B, H], heads, backend: 'js' })).scores;
  const norm = (await scoreHeads({ hidden, shape: [B, H], heads, backend: 'js', normalize: 'batch' })).scores;
  for (let k = 0; k < 2; k++) {
    const x = Array.from(raw.subarray(k * B, (k + 1) * B));
    const m = x.reduce((a, v) => a + v, 0) / B;
    const sd = Math.sqrt(x.reduce((a, v) => a + (v - m) ** 2, 0) / (B - 1));
    assert.is(mismatch(norm.subarray(k * B, (k + 1) * B), x.map((v) => (v - m) / sd), 1e-6, 1e-7), '', `head ${k}`);
  }
  const stored = (await scoreHeads({ hidden, shape: [B, H], heads, backend: 'js', normalize: { mean: [1, -2], std: 4 } })).scores;
  assert.is(mismatch(stored, Array.from(raw, (v, i) => (v - (i < B ? 1 : -2)) / 4), 1e-6, 1e-7), '');
  // All-equal scores: std clamps to 1e-8, so the result is exactly 0.
  const flat = await scoreHeads({ hidden: new Float32Array(3 * H).fill(1), shape: [3, H], heads: heads[0]!, backend: 'js', normalize: 'batch' });
  assert.equal([...flat.scores], [0, 0, 0]);
});

test('out: scores are written into the given array', async () => {
  const out = new Float32Array(2);
  const res = await scoreHeads({ hidden: Float32Array.from([1, 2, 3, 4]), shape: [2, 2], heads: { kind: 'linear', weight: [1, 1] }, backend: 'js', out });
  assert.is(res.scores, out);
  assert.equal([...out], [3, 7]);
});

// ---------------------------------------------------------------------------------------------
// safetensors.

test('safetensors: read F32/F16/BF16/F64 tensors and metadata, from a buffer and from a file', () => {
  const w = Float32Array.from([0.5, -1.25, 3]);
  const h16 = Uint16Array.from([toF16(1.5), toF16(-2), toF16(0.25)]);
  const b16 = encode(Float32Array.from([1, -0.5, 8]), 'bf16') as Uint16Array;
  const f64 = new Float64Array([0.1, 2]);
  const bytes = safetensorsBytes([
    ['a', 'F32', [3], f32Bytes(w)], ['b', 'F16', [1, 3], u16Bytes(h16)], ['c', 'BF16', [3], u16Bytes(b16)],
    ['d', 'F64', [2], new Uint8Array(f64.buffer)], ['e', 'I32', [0], new Uint8Array(0)],
  ], { format: 'pt' });
  const dir = mkdtempSync(join(tmpdir(), 'rk-heads-'));
  try {
    const path = join(dir, 'x.safetensors');
    writeFileSync(path, bytes);
    for (const source of [bytes, path]) {
      const f = readSafetensors(source);
      assert.equal(f.metadata, { format: 'pt' });
      assert.equal([...f.tensors.keys()], ['a', 'b', 'c', 'd', 'e']);
      assert.equal(f.tensors.get('b')!.shape, [1, 3]);
      assert.equal([...f.float32('a')], [0.5, -1.25, 3]);
      assert.equal([...f.float32('b')], [1.5, -2, 0.25]);
      assert.equal([...f.float32('c')], [1, -0.5, 8]);
      assert.equal([...f.float32('d')], [Math.fround(0.1), 2]);
      assert.throws(() => f.float32('e'), (e: RewardkitError) => e.code === 'E_DTYPE');
      assert.throws(() => f.float32('zz'), (e: RewardkitError) => e.code === 'E_VALUE' && e.argument === 'name');
      f.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('safetensors: corrupt files are typed errors', async () => {
  const good = f32Bytes(Float32Array.from([1, 2]));
  const entry = (o: object) => JSON.stringify({ t: { dtype: 'F32', shape: [2], data_offsets: [0, 8], ...o } });
  const lenPrefix = (n: bigint, rest: Uint8Array) => { const b = new Uint8Array(8 + rest.length); new DataView(b.buffer).setBigUint64(0, n, true); b.set(rest, 8); return b; };
  const cases: Array<[string, Uint8Array]> = [
    ['short', new Uint8Array(5)],
    ['header past the end', lenPrefix(1000n, new Uint8Array(10))],
    ['header over 100 MB', lenPrefix(2n ** 40n, new Uint8Array(10))],
    ['header length 0', lenPrefix(0n, new Uint8Array(10))],
    ['bad JSON', withHeader('{"t": ', [good])],
    ['JSON array', withHeader('[1, 2]', [good])],
    ['bad UTF-8', lenPrefix(8n, Uint8Array.from([0x7b, 0xff, 0xfe, 0x7d, 32, 32, 32, 32]))],
    ['unknown dtype', withHeader(entry({ dtype: 'F17' }), [good])],
    ['negative dim', withHeader(entry({ shape: [-2] }), [good])],
    ['fractional dim', withHeader(entry({ shape: [1.5] }), [good])],
    ['size mismatch', withHeader(entry({ shape: [3] }), [good])],
    ['reversed offsets', withHeader(entry({ data_offsets: [8, 0] }), [good])],
    ['offsets past the buffer', withHeader(entry({ shape: [4], data_offsets: [0, 16] }), [good])],
    ['trailing bytes', withHeader(entry({}), [good, new Uint8Array(4)])],
    ['hole', withHeader(JSON.stringify({ t: { dtype: 'F32', shape: [1], data_offsets: [4, 8] } }), [good])],
    ['overlap', withHeader(JSON.stringify({ t: { dtype: 'F32', shape: [2], data_offsets: [0, 8] }, u: { dtype: 'F32', shape: [1], data_offsets: [4, 8] } }), [good])],
    ['metadata not strings', withHeader(JSON.stringify({ __metadata__: { a: 1 }, t: { dtype: 'F32', shape: [2], data_offsets: [0, 8] } }), [good])],
    ['missing offsets', withHeader(JSON.stringify({ t: { dtype: 'F32', shape: [2] } }), [good])],
  ];
  for (const [what, bytes] of cases) await rejects(() => readSafetensors(bytes), 'E_VALUE', 'safetensors').catch((e) => { throw new Error(`${what}: ${(e as Error).message}`); });
  await rejects(() => readSafetensors(join(tmpdir(), 'no-such-file.safetensors')), 'E_VALUE', 'source');
  await rejects(() => readSafetensors(42 as unknown as string), 'E_DTYPE', 'source');
});

test('loadHead: TRL score, OpenRLHF value_head, nn.Sequential MLP (f16/bf16 weights), scores match', async () => {
  const r = rng(21);
  const H = 8, W = 5;
  const w = randomFloats(r, H), w1 = randomFloats(r, W * H), b1 = randomFloats(r, W), w2 = randomFloats(r, W);
  const trl = loadHead(safetensorsBytes([['model.norm.weight', 'F32', [H], f32Bytes(randomFloats(r, H))], ['score.weight', 'F32', [1, H], f32Bytes(w)]]));
  assert.equal(trl, { kind: 'linear', weight: w, bias: 0 });
  const orl = loadHead(safetensorsBytes([['value_head.bias', 'F32', [1], f32Bytes(Float32Array.of(0.25))], ['value_head.weight', 'F32', [1, H], f32Bytes(w)]]));
  assert.equal(orl, { kind: 'linear', weight: w, bias: 0.25 });
  const w1b = encode(w1, 'bf16') as Uint16Array;
  const mlp = loadHead(safetensorsBytes([
    ['reward_head.2.weight', 'F16', [1, W], u16Bytes(Uint16Array.from(w2, toF16))],
    ['reward_head.0.weight', 'BF16', [W, H], u16Bytes(w1b)],
    ['reward_head.0.bias', 'F32', [W], f32Bytes(b1)],
    ['reward_head.2.bias', 'F32', [1], f32Bytes(Float32Array.of(-0.5))],
  ], { activation: 'gelu' }));
  assert.is(mlp.kind, 'mlp');
  if (mlp.kind !== 'mlp') return;
  assert.is(mlp.activation, 'gelu');
  assert.is(mlp.b2, -0.5);
  assert.equal([...mlp.w2], Array.from(w2, (x) => f16Value(toF16(x))));
  assert.equal([...mlp.w1], Array.from(w1b, (x) => new Float32Array(new Uint32Array([x << 16]).buffer)[0]!));
  const hidden = randomFloats(r, 3 * H);
  const a = await scoreHeads({ hidden, shape: [3, H], heads: mlp, backend: 'js' });
  const b = await scoreHeads({ hidden, shape: [3, H], heads: { ...mlp, activation: 'gelu' }, backend: 'js' });
  assert.equal([...a.scores], [...b.scores]);
  // activation option wins over metadata; explicit prefix.
  const plain = safetensorsBytes([['fc1.weight', 'F32', [W, H], f32Bytes(w1)], ['fc2.weight', 'F32', [1, W], f32Bytes(w2)]]);
  const p2 = loadHead(plain, { prefix: 'fc', activation: 'tanh' });
  assert.ok(p2.kind === 'mlp' && p2.activation === 'tanh' && p2.b1 === undefined);
});

test('loadHead: tensors that do not form a head are typed errors', async () => {
  const H = 4;
  const f = (n: number) => f32Bytes(new Float32Array(n));
  await rejects(() => loadHead(safetensorsBytes([['x.bias', 'F32', [2], f(2)]])), 'E_SHAPE', 'safetensors');
  await rejects(() => loadHead(safetensorsBytes([['score.weight', 'F32', [2, H], f(2 * H)]])), 'E_SHAPE', 'score.weight');
  await rejects(() => loadHead(safetensorsBytes([['h.0.weight', 'F32', [3, H], f(3 * H)], ['h.1.weight', 'F32', [1, 2], f(2)]])), 'E_SHAPE', 'h.1.weight');
  await rejects(() => loadHead(safetensorsBytes([['a.weight', 'F32', [1], f(1)], ['b.weight', 'F32', [1], f(1)], ['c.weight', 'F32', [1], f(1)]])), 'E_SHAPE', 'safetensors');
  await rejects(() => loadHead(safetensorsBytes([['score.weight', 'I32', [1, H], f(H)]])), 'E_DTYPE');
  await rejects(() => loadHead(safetensorsBytes([['h.0.weight', 'F32', [3, H], f(3 * H)], ['h.1.weight', 'F32', [1, 3], f(3)]], { activation: 'swish' })), 'E_VALUE', '__metadata__.activation');
});

// ---------------------------------------------------------------------------------------------
// Errors.

const base = (): ScoreHeadsOptions => ({ hidden: new Float32Array(6), shape: [2, 3], heads: { kind: 'linear', weight: [1, 2, 3] }, backend: 'js' });

test('typed errors name the argument at fault', async () => {
  const cases: Array<[Partial<ScoreHeadsOptions> | Record<string, unknown>, string, string | RegExp]> = [
    [{ hidden: new Float64Array(6) as unknown as Float32Array }, 'E_DTYPE', 'hidden'],
    [{ hidden: new Uint16Array(6) }, 'E_DTYPE', 'dtype'],
    [{ hidden: new Uint16Array(6), dtype: 'f32' }, 'E_DTYPE', 'hidden'],
    [{ dtype: 'bf16' }, 'E_DTYPE', 'hidden'],
    [{ dtype: 'f8' as never }, 'E_VALUE', 'dtype'],
    [{ shape: [2] as never }, 'E_SHAPE', 'shape'],
    [{ shape: [2, 4] }, 'E_SHAPE', 'hidden'],
    [{ shape: [0, 3] }, 'E_VALUE', 'shape[0]'],
    [{ shape: [2, 1.5] as never }, 'E_VALUE', 'shape[1]'],
    [{ shape: [2, 1, 3] }, 'E_VALUE', 'pooling'],
    [{ pooling: { kind: 'mean' } }, 'E_VALUE', 'pooling'],
    [{ shape: [1, 2, 3], pooling: { kind: 'max' } as never }, 'E_VALUE', 'pooling.kind'],
    [{ shape: [1, 2, 3], pooling: { kind: 'last', inputIds: [1], padTokenId: 0 } }, 'E_SHAPE', 'pooling.inputIds'],
    [{ shape: [1, 2, 3], pooling: { kind: 'last', inputIds: [1, 2], padTokenId: 0.5 } }, 'E_VALUE', 'pooling.padTokenId'],
    [{ shape: [1, 2, 3], pooling: { kind: 'mask', mask: new Uint8Array(3) } }, 'E_SHAPE', 'pooling.mask'],
    [{ shape: [1, 2, 3], pooling: { kind: 'mask', mask: Float32Array.of(1, NaN) } }, 'E_VALUE', 'pooling.mask[1]'],
    [{ shape: [1, 2, 3], pooling: { kind: 'index', index: [2] } }, 'E_RANGE', 'pooling.index[0]'],
    [{ shape: [1, 2, 3], pooling: { kind: 'index', index: [0, 1] } }, 'E_SHAPE', 'pooling.index'],
    [{ heads: [] }, 'E_VALUE', 'heads'],
    [{ heads: { kind: 'conv' } as never }, 'E_VALUE', 'heads.kind'],
    [{ heads: { kind: 'linear', weight: [1, 2] } }, 'E_SHAPE', 'heads.weight'],
    [{ heads: [{ kind: 'linear', weight: [1, 2, 3] }, { kind: 'linear', weight: [1, 2, 3], bias: NaN }] }, 'E_VALUE', 'heads[1].bias'],
    [{ heads: { kind: 'mlp', w1: [1, 2, 3, 4], w2: [1] } }, 'E_SHAPE', 'heads.w1'],
    [{ heads: { kind: 'mlp', w1: [1, 2, 3, 4, 5, 6], w2: [1] } }, 'E_SHAPE', 'heads.w2'],
    [{ heads: { kind: 'mlp', w1: [1, 2, 3], w2: [1], b1: [1, 2] } }, 'E_SHAPE', 'heads.b1'],
    [{ heads: { kind: 'mlp', w1: [1, 2, 3], w2: ['x'] as never } }, 'E_DTYPE', 'heads.w2[0]'],
    [{ heads: { kind: 'mlp', w1: [1, 2, 3], w2: [1], activation: 'swish' as never } }, 'E_VALUE', 'heads.activation'],
    [{ normalize: 'z' as never }, 'E_VALUE', 'normalize'],
    [{ normalize: { mean: [1, 2], std: 1 } }, 'E_SHAPE', 'normalize.mean'],
    [{ normalize: { mean: 0, std: 0 } }, 'E_VALUE', 'normalize.std[0]'],
    [{ hidden: new Float32Array(3), shape: [1, 3], normalize: 'batch' }, 'E_VALUE', 'normalize'],
    [{ out: new Float32Array(3) }, 'E_SHAPE', 'out'],
    [{ out: new Float64Array(2) as never }, 'E_DTYPE', 'out'],
    [{ backend: 'cuda' as never }, 'E_VALUE', 'backend'],
  ];
  for (const [patch, code, argument] of cases) await rejects(() => scoreHeads({ ...base(), ...patch } as ScoreHeadsOptions), code, argument);
  await rejects(() => scoreHeads(null as never), 'E_VALUE', 'options');
  await rejects(() => pooledIndex({ kind: 'mean' } as never, [1, 2]), 'E_VALUE', 'pooling.kind');
});

test('fuzz: malformed and edge options give results or RewardkitErrors, never anything else', async () => {
  const arb = fc.record({
    B: fc.integer({ min: -1, max: 4 }), T: fc.integer({ min: -1, max: 3 }), H: fc.integer({ min: 0, max: 5 }),
    three: fc.boolean(), lenDelta: fc.integer({ min: -1, max: 1 }), u16: fc.boolean(),
    dtype: fc.constantFrom(undefined, 'f32', 'f16', 'bf16', 'x'),
    pool: fc.constantFrom(undefined, 'last', 'mask', 'index', 'mean', 'bogus'),
    kind: fc.constantFrom('linear', 'mlp', 'other'), width: fc.integer({ min: 0, max: 3 }), wDelta: fc.integer({ min: -1, max: 1 }),
    value: fc.constantFrom(0, 1, -1, NaN, Infinity, 1e30, 5e-324), norm: fc.constantFrom(undefined, 'batch', { mean: 0, std: 1 }, { mean: 0, std: -1 }),
  });
  await fc.assert(fc.asyncProperty(arb, async (c) => {
    const B = c.B, T = c.T, H = c.H;
    const n = Math.max(0, B * (c.three ? T : 1) * H + c.lenDelta);
    const hidden = c.u16 ? new Uint16Array(n).fill(0x3c00) : new Float32Array(n).fill(c.value);
    const bt = Math.max(0, B * T);
    const pooling = c.pool === undefined ? undefined
      : c.pool === 'last' ? { kind: 'last', inputIds: new Int32Array(bt).fill(1), padTokenId: 0 }
      : c.pool === 'mask' ? { kind: 'mask', mask: new Uint8Array(bt) }
      : c.pool === 'index' ? { kind: 'index', index: new Array(Math.max(0, B)).fill(T - 1) }
      : c.pool === 'mean' ? { kind: 'mean', mask: new Float32Array(bt).fill(c.value) } : { kind: c.pool };
    const wl = Math.max(0, c.width * H + c.wDelta);
    const heads = c.kind === 'linear' ? { kind: 'linear', weight: new Float32Array(Math.max(0, H + c.wDelta)).fill(c.value) }
      : { kind: c.kind, w1: new Float32Array(wl).fill(c.value), w2: new Float32Array(c.width).fill(1) };
    try {
      const res = await scoreHeads({ hidden, dtype: c.dtype, shape: c.three ? [B, T, H] : [B, H], pooling, heads, normalize: c.norm, backend: 'js' } as never);
      assert.is(res.scores.length, res.heads * res.rows);
    } catch (err) {
      if (!(err instanceof RewardkitError)) throw err;
    }
  }), { numRuns: 400, seed: 42 });
});

test.run();
