/**
 * policyLoss / aggLoss / valueLoss: every loss × aggregation on native and WebGPU against the JS
 * reference, on random inputs of many shapes and the edge cases (empty rows and batches, NaN on
 * padding, log-ratios beyond the ±20 clamp, A = 0, importance weights, packed and u8/f32/i32 masks).
 *
 * Tolerances, and why:
 * - native: per token rel 1e-6, abs 1e-7. It repeats the reference's f32 operations one by one and
 *   sums in f64 (vanilla, trl, cispo, value, kl: per-lane partials, which reorders f64 additions only); exp/log
 *   are libm's or, for vanilla, trl and cispo, native/common/vexp.h's f32 Cephes exp (8 or 16 lanes), within 1 ulp of the
 *   reference's Math.fround(Math.exp(x)) (0.66% of the f32s in [−20, 20] differ, all by 1 ulp), and
 *   their gradient −A·ρ·r·F is rounded twice in f32 where the reference rounds once from f64: <= 2.5 ulp
 *   (3e-7 relative) per token. Aggregated loss: 1e-6 of the same aggregation of |loss| (+ abs), the
 *   per-token bound carried through sums that may cancel. Metrics rel 1e-6 + abs 1e-6, plus for
 *   clipfrac/clipfracLower 1/N per trained token whose reference ratio lies within 1 ulp of a clip
 *   boundary (nearClipBoundary): the 1-ulp exp can move exactly those tokens across it.
 * - WebGPU: per-token rel 1e-5, abs 1e-6·scale (WGSL exp is accurate to a few ulps, not correctly
 *   rounded; the gradient carries the aggregation weight, so its absolute bound is scaled by it);
 *   aggregates rel 1e-4 of Σ|terms| (f32 tree sums over up to 10^5 terms, cancellation included);
 *   counts-based metrics abs 1e-6. Exact ties on clip boundaries may fall differently in f32 exp,
 *   so the GPU cases keep log-ratios off the boundaries.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { aggLoss, createContext, disposeDefaultContext, gpuStatus, nativeStatus, policyLoss, valueLoss, type AggMode, type PolicyLoss, type PolicyLossOptions } from '../lib/index.js';
import { gauss, isCI, mismatch, randomLayout, rng, type LayoutSpec } from './helpers.js';

const losses: PolicyLoss[] = ['vanilla', 'trl', 'gspo', 'cispo', 'sapo', 'gpg', 'gmpo'];
const modes: AggMode[] = ['token-mean', 'seq-mean-token-sum', 'seq-mean-token-mean', 'seq-mean-token-sum-norm', 'grpo', 'bnpo', 'dr_grpo', 'dapo'];

interface Spec extends LayoutSpec {
  loss: PolicyLoss;
  aggregation: AggMode;
  weights?: boolean;
  /** huge: log-ratios of ±30 (past the ±20 clamp); zeroAdv: A = 0 on half the rows; nanPad: NaN on padding; allMasked: no trained token. */
  special?: 'huge' | 'zeroAdv' | 'nanPad' | 'allMasked';
  tokenAdv?: boolean;
}

export function makeLoss(s: Spec, seed: number): PolicyLossOptions {
  const r = rng(seed);
  const { layout, tokens } = randomLayout(r, s.special === 'allMasked' ? { ...s, emptyRows: false, cols: s.cols } : s);
  if (s.special === 'allMasked' && layout.mask) layout.mask.fill(0);
  const lp = new Float32Array(tokens), old = new Float32Array(tokens), adv = new Float32Array(tokens), w = new Float32Array(tokens);
  const off = layout.offsets ?? Uint32Array.from({ length: s.rows + 1 }, (_, i) => i * s.cols);
  for (let i = 0; i < s.rows; i++) {
    const a = s.special === 'zeroAdv' && r() < 0.5 ? 0 : gauss(r);
    for (let t = off[i]!; t < off[i + 1]!; t++) {
      lp[t] = -Math.abs(gauss(r)) * 2;
      const d = s.special === 'huge' ? (r() < 0.5 ? -30 : 30) * r() : 0.3 * gauss(r);
      old[t] = lp[t]! - d;
      adv[t] = s.tokenAdv ? gauss(r) : a;
      w[t] = 0.5 + r();
    }
  }
  if (s.special === 'nanPad' && layout.mask) for (let t = 0; t < tokens; t++) if (!layout.mask[t]) { lp[t] = NaN; old[t] = Infinity; adv[t] = NaN; w[t] = NaN; }
  const o: PolicyLossOptions = { ...layout, logProbs: lp, oldLogProbs: old, advantages: adv, loss: s.loss, aggregation: s.aggregation, maxCompletionLength: s.cols + 3 };
  if (s.weights) o.importanceWeights = w;
  if (s.loss === 'trl' && r() < 0.5) o.delta = 1.5;
  if (r() < 0.3) Object.assign(o, { dpSize: 2, batchNumTokens: 3 * tokens + 1, globalBatchSize: 2 * s.rows + 1, lossScaleFactor: 4 * s.cols + 1, numProcesses: 2, globalActiveTokens: 2 * tokens + 5 });
  return o;
}

/** A bound for the aggregated loss: rel·(the same aggregation of |loss|) + abs. */
async function lossScale(o: PolicyLossOptions, tokenLoss: Float32Array): Promise<number> {
  const abs = tokenLoss.map(Math.abs);
  const r = await aggLoss({ ...o, lossMat: abs, aggregation: o.loss === 'gspo' || o.loss === 'sapo' ? 'seq-mean-token-mean' : o.aggregation, backend: 'js' });
  return Number.isFinite(r.loss) ? r.loss : 0;
}

/**
 * Trained vanilla tokens whose reference ratio f32(e^clamp(lp − old, ±20)) lies within one f32 ulp of
 * a boundary that decides a clip count (the verl preset's 1 − 0.2, 1 + 0.2 and dual-clip c = 3):
 * native's exp may land one ulp away from the reference's and move such a token across it, changing
 * clipfrac or clipfracLower by 1/N each. Random draws almost never have one; the bound says so.
 */
function nearClipBoundary(o: PolicyLossOptions): number {  // as a fraction of the trained tokens
  const loss = o.loss ?? 'vanilla';
  if (loss !== 'vanilla' && loss !== 'trl' && loss !== 'cispo') return 0;
  const f = Math.fround, lp = o.logProbs as Float32Array, old = o.oldLogProbs as Float32Array, mask = o.mask as ArrayLike<number> | undefined;
  // trl: its ratio (not clamped) against 1 ∓ 0.2 and the delta cap.
  const bounds = loss === 'vanilla' ? [f(0.8), f(1.2), 3] : [f(0.8), f(1.2), ...(o.delta ? [f(o.delta)] : [])];
  let near = 0, trained = 0;
  for (let t = 0; t < lp.length; t++) {
    if (mask && !mask[t]) continue;
    trained++;
    const lr = f(lp[t]! - old[t]!), r = f(Math.exp(loss === 'trl' ? lr : Math.min(Math.max(lr, -20), 20)));
    if (bounds.some((b) => Math.abs(r - b) <= b * 2 ** -23)) near++;
  }
  return near / Math.max(1, trained);
}

async function agree(o: PolicyLossOptions, backend: 'native' | 'webgpu', extra: Partial<PolicyLossOptions> = {}): Promise<void> {
  const ref = await policyLoss({ ...o, backend: 'js' });
  const got = await policyLoss({ ...o, ...extra, backend });
  assert.is(got.backend, backend);
  const gpu = backend === 'webgpu';
  const rel = gpu ? 1e-5 : 1e-6, abs = gpu ? 1e-6 : 1e-7;
  let gmax = 0;
  for (const g of ref.gradient) if (Number.isFinite(g)) gmax = Math.max(gmax, Math.abs(g));
  assert.is(mismatch(got.tokenLoss, ref.tokenLoss, rel, abs), '', 'tokenLoss');
  assert.is(mismatch(got.gradient, ref.gradient, rel, gpu ? 1e-5 * gmax : abs), '', 'gradient');
  const scale = await lossScale(o, ref.tokenLoss);
  assert.is(mismatch([got.loss], [ref.loss], 0, (gpu ? 1e-4 : 1e-6) * scale + abs), '', 'loss');
  const m = (k: keyof typeof ref.metrics, extraAbs = 0) => assert.is(mismatch([got.metrics[k]], [ref.metrics[k]], gpu ? 1e-4 : 1e-6, 1e-6 + extraAbs), '', k);
  const flips = gpu ? 0 : nearClipBoundary(o);
  m('clipfrac', flips); m('clipfracLower', flips); m('ppoKl');
}

function suite(backend: 'native' | 'webgpu', sizes: Array<[number, number]>, extra: () => Partial<PolicyLossOptions> = () => ({})): void {
  let seed = 1000;
  const layouts: Array<Partial<LayoutSpec>> = [{ mask: 'u8' }, { mask: 'f32', emptyRows: true }, { packed: true }, { mask: 'i32', emptyRows: true }];
  for (const [B, T] of sizes) {
    test(`${backend}: every loss × aggregation at ${B}×${T}`, async () => {
      let k = 0;
      for (const loss of losses) for (const aggregation of modes) {
        const layout = layouts[k % layouts.length]!;
        const spec: Spec = { rows: B, cols: T, loss, aggregation, ...layout, weights: k % 3 === 0, tokenAdv: k % 2 === 0 };
        const s = seed++;
        try { await agree(makeLoss(spec, s), backend, extra()); } catch (e) { throw new Error(`${JSON.stringify(spec)} seed ${s}: ${(e as Error).message}`); }
        k++;
      }
    });
  }
  test(`${backend}: edge cases (past the clamp, A = 0, NaN padding, empty batch)`, async () => {
    for (const special of ['huge', 'zeroAdv', 'nanPad', 'allMasked'] as const) for (const loss of losses) {
      for (const aggregation of ['token-mean', 'seq-mean-token-mean', 'seq-mean-token-sum', 'grpo', 'dapo'] as const) {
        const spec: Spec = { rows: 9, cols: 17, loss, aggregation, special, weights: loss === 'vanilla', emptyRows: true };
        const s = seed++;
        try { await agree(makeLoss(spec, s), backend, extra()); } catch (e) { throw new Error(`${JSON.stringify(spec)} seed ${s}: ${(e as Error).message}`); }
      }
    }
  });
  test(`${backend}: aggLoss and valueLoss agree with js`, async () => {
    const r = rng(77);
    for (const mode of modes) for (const [B, T] of sizes) {
      const { layout, tokens } = randomLayout(r, { rows: B, cols: T, emptyRows: true });
      const lossMat = Float32Array.from({ length: tokens }, () => gauss(r));
      const o = { ...layout, lossMat, aggregation: mode, maxCompletionLength: T };
      const a = await aggLoss({ ...o, backend: 'js' }), b = await aggLoss({ ...o, ...extra(), backend });
      assert.is(mismatch([b.loss], [a.loss], backend === 'webgpu' ? 1e-4 : 1e-6, 1e-5), '', `aggLoss ${mode}`);
      assert.is(mismatch(b.gradient, a.gradient, 1e-6, 0), '', `aggLoss gradient ${mode}`);
      const v = { ...layout, vpreds: lossMat, values: lossMat.map((x) => x + 0.4 * gauss(r)), returns: lossMat.map(() => gauss(r)), cliprange: 0.2, aggregation: mode, maxCompletionLength: T };
      const c = await valueLoss({ ...v, backend: 'js' }), d = await valueLoss({ ...v, ...extra(), backend });
      assert.is(mismatch([d.loss, d.clipfrac], [c.loss, c.clipfrac], backend === 'webgpu' ? 1e-4 : 1e-6, 1e-6), '', `valueLoss ${mode}`);
      assert.is(mismatch(d.tokenLoss, c.tokenLoss, 1e-5, 1e-6), '', `valueLoss tokens ${mode}`);
      assert.is(mismatch(d.gradient, c.gradient, 1e-5, 1e-6), '', `valueLoss gradient ${mode}`);
    }
  });
}

if (nativeStatus().available) {
  suite('native', [[1, 1], [2, 3], [7, 5], [64, 33], [300, 130]]);
  test('native valueLoss on the clip boundaries, ties and odd values, in every lane and tail position', async () => {
    // vpreds exactly at values ± cliprange (torch's half-gradient ties), inside, outside, NaN and ±inf;
    // returns equal to either side (l1 = l2 ties), huge and NaN; rows of 37 tokens.
    const f = Math.fround, rows = 5, T = 37, n = rows * T, r = rng(9), clip = 0.2;
    const values = Float32Array.from({ length: n }, () => 2 * r() - 1), vpreds = new Float32Array(n), returns = new Float32Array(n);
    for (let t = 0; t < n; t++) {
      const o = values[t]!, hi = f(o + f(clip)), lo = f(o - f(clip));
      vpreds[t] = [o, hi, lo, hi + 1, lo - 1, o + 0.05, NaN, Infinity, -Infinity][(t * 5) % 9]!;
      returns[t] = [vpreds[t]!, o, hi, lo, 1e30, -1e30, NaN, 2 * r() - 1, vpreds[t]! + 0.3][(t * 7) % 9]!;
    }
    const mask = Uint8Array.from({ length: n }, (_, t) => (t % T < T - (t / T | 0) ? 1 : 0));
    for (const aggregation of ['token-mean', 'seq-mean-token-mean'] as const) {
      const o = { vpreds, values, returns, cliprange: clip, mask, shape: [rows, T] as [number, number], aggregation };
      const ref = await valueLoss({ ...o, backend: 'js' }), got = await valueLoss({ ...o, backend: 'native' });
      assert.is(mismatch(got.tokenLoss, ref.tokenLoss, 1e-6, 1e-7), '', `tokenLoss ${aggregation}`);
      assert.is(mismatch(got.gradient, ref.gradient, 1e-6, 1e-7), '', `gradient ${aggregation}`);
      assert.is(mismatch([got.loss, got.clipfrac], [ref.loss, ref.clipfrac], 1e-6, 1e-7), '', `scalars ${aggregation}`);
    }
  });
  test('native trl at the ends of the f32 exp range, in every lane and tail position', async () => {
    // Log-ratios whose e^lr overflows, underflows, is subnormal, exactly 1, or is NaN/±inf, against
    // A of both signs and 0, with and without delta and weights; 37 tokens a row (16-lane blocks + a tail).
    const lrs = [0, 0.5, -0.5, 3, 88, 88.8, 89, 100, -87.5, -95, -104, -110, NaN, Infinity, -Infinity];
    const advs = [1, -1, 0, 2.5, -0.25];
    const rows = 6, T = 37, n = rows * T, r = rng(5);
    const logProbs = new Float32Array(n), oldLogProbs = new Float32Array(n), advantages = new Float32Array(n), weights = new Float32Array(n);
    for (let t = 0; t < n; t++) {
      oldLogProbs[t] = -2 * r();
      logProbs[t] = oldLogProbs[t]! + lrs[(t * 7) % lrs.length]!;
      advantages[t] = advs[(t * 3) % advs.length]!;
      weights[t] = 0.5 + r();
    }
    const mask = Uint8Array.from({ length: n }, (_, t) => (t % T < T - (t / T | 0) ? 1 : 0));
    for (const delta of [undefined, 1.5]) for (const w of [undefined, weights]) for (const aggregation of ['token-mean', 'seq-mean-token-sum'] as const) {
      const o: PolicyLossOptions = { logProbs, oldLogProbs, advantages, mask, shape: [rows, T], loss: 'trl', preset: 'trl', aggregation, ...(delta ? { delta } : {}), ...(w ? { weights: w } : {}) };
      const ref = await policyLoss({ ...o, backend: 'js' }), got = await policyLoss({ ...o, backend: 'native' });
      const label = `delta ${delta}, weights ${!!w}, ${aggregation}`;
      assert.is(mismatch(got.tokenLoss, ref.tokenLoss, 1e-6, 1e-7), '', `tokenLoss, ${label}`);
      assert.is(mismatch(got.gradient, ref.gradient, 1e-6, 1e-7), '', `gradient, ${label}`);
      assert.is(mismatch([got.loss, got.metrics.clipfrac, got.metrics.clipfracLower, got.metrics.ppoKl], [ref.loss, ref.metrics.clipfrac, ref.metrics.clipfracLower, ref.metrics.ppoKl], 1e-6, 1e-7), '', `scalars, ${label}`);
    }
  });
  test('native: 1,048,576 tokens per loss (token-mean and seq-mean-token-mean)', async () => {
    for (const loss of losses) {
      await agree(makeLoss({ rows: 1024, cols: 1024, loss, aggregation: loss === 'vanilla' ? 'token-mean' : 'seq-mean-token-mean', weights: true }, 5), 'native');
    }
  });
} else if (isCI) test('the native addon is available in CI', () => assert.unreachable(nativeStatus().reason));

const gpu = await gpuStatus();
if (gpu.available) {
  suite('webgpu', [[1, 1], [3, 5], [40, 33], [200, 300]]);
  test('webgpu: token arrays split across 64 KiB bindings', async () => {
    const small = await createContext({ maxBindingSize: 64 * 1024 });
    try {
      for (const [i, loss] of losses.entries()) {
        await agree(makeLoss({ rows: 300, cols: 130, loss, aggregation: modes[i]!, weights: true, packed: i % 2 === 1, emptyRows: true }, 900 + i), 'webgpu', { context: small });
      }
    } finally { small.dispose(); }
  });
  test.after(() => disposeDefaultContext());
} else if (isCI) test('a WebGPU adapter is available in CI', () => assert.unreachable(gpu.reason));

test.run();
