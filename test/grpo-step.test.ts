/**
 * grpoStep (GRPO advantages → policy loss + β·KL → aggregation, metrics, gradient) on native and
 * WebGPU against js, which composes grpoAdvantages, policyLoss and the KL loss; and js against the
 * composition itself. Tolerances as test/loss.test.ts (WebGPU: per token rel 1e-5, gradient abs
 * 1e-5 of its largest value, scalars rel 1e-4 + 1e-5 absolute; native: rel 1e-6).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { aggLoss, disposeDefaultContext, gpuStatus, grpoAdvantages, grpoStep, nativeStatus, policyLoss, type GrpoStepOptions, type KlEstimator } from '../lib/index.js';
import { gauss, isCI, mismatch, randomLayout, rng } from './helpers.js';

function makeStep(rows: number, cols: number, seed: number, extra: Partial<GrpoStepOptions> = {}): GrpoStepOptions {
  const r = rng(seed);
  const { layout, tokens } = randomLayout(r, { rows, cols, packed: seed % 2 === 1, emptyRows: true });
  const logProbs = Float32Array.from({ length: tokens }, () => -Math.abs(gauss(r)) * 2);
  const oldLogProbs = logProbs.map((x) => x + 0.2 * gauss(r)), refLogProbs = logProbs.map((x) => x + 0.3 * gauss(r));
  const scores = Float32Array.from({ length: rows }, () => (r() < 0.5 ? Math.round(r()) : gauss(r)));
  return { ...layout, scores, scoreLevel: 'row', groups: { size: rows % 4 === 0 ? 4 : 1 }, logProbs, oldLogProbs, refLogProbs, klCoef: 0.04, read: ['advantages', 'rowAdvantages', 'tokenLoss', 'gradient'], ...extra };
}

test('js grpoStep equals the composition of grpoAdvantages, policyLoss and the KL term', async () => {
  const o = makeStep(16, 9, 2);
  const s = await grpoStep({ ...o, backend: 'js' });
  const adv = await grpoAdvantages({ ...o, backend: 'js' } as any);
  assert.is(mismatch(s.advantages!, adv.tokenAdvantages, 0, 0), '');
  const pg = await policyLoss({ ...o, advantages: adv.tokenAdvantages, backend: 'js' } as any);
  assert.is(s.pgLoss, pg.loss);
  assert.is(mismatch(s.tokenLoss!, pg.tokenLoss, 0, 0), '');
  // k3 per token, aggregated token-mean, times β.
  const m = o.mask as Uint8Array | undefined;
  const kld = o.logProbs.map((x, t) => { const k = Math.max(-20, Math.min(20, (o.refLogProbs as Float32Array)[t]! - x)); return Math.max(-10, Math.min(10, Math.exp(k) - k - 1)); });
  const kl = await aggLoss({ ...o, lossMat: kld, backend: 'js' } as any);
  assert.is(mismatch([s.klLoss], [0.04 * kl.loss], 1e-6, 1e-9), '');
  const grad = pg.gradient.map((g, t) => g + 0.04 * kl.gradient[t]! * -(Math.exp(Math.max(-20, Math.min(20, (o.refLogProbs as Float32Array)[t]! - o.logProbs[t]!))) - 1) * (m && !m[t] ? 0 : 1));
  assert.is(mismatch(s.gradient!, grad, 1e-5, 1e-9), '');
  assert.is(mismatch([s.loss], [pg.loss + s.klLoss], 1e-6, 0), '');
});

async function agree(o: GrpoStepOptions, backend: 'native' | 'webgpu'): Promise<void> {
  const a = await grpoStep({ ...o, backend: 'js' }), b = await grpoStep({ ...o, backend });
  assert.is(b.backend, backend);
  const gpu = backend === 'webgpu', rel = gpu ? 1e-5 : 1e-6;
  let gmax = 0;
  for (const g of a.gradient ?? []) gmax = Math.max(gmax, Math.abs(g));
  for (const k of ['advantages', 'rowAdvantages', 'tokenLoss'] as const) if (a[k]) assert.is(mismatch(b[k]!, a[k]!, rel, 1e-6), '', k);
  if (a.gradient) assert.is(mismatch(b.gradient!, a.gradient, rel, gpu ? 1e-5 * gmax : 1e-7), '', 'gradient');
  assert.is(mismatch([b.loss, b.pgLoss, b.klLoss], [a.loss, a.pgLoss, a.klLoss], gpu ? 1e-4 : 1e-6, 1e-5), '', 'scalars');
  assert.is(mismatch([b.metrics.clipfrac, b.metrics.ppoKl, b.metrics.clipfracLower], [a.metrics.clipfrac, a.metrics.ppoKl, a.metrics.clipfracLower], gpu ? 1e-4 : 1e-6, 1e-6), '', 'metrics');
}

const backends: Array<'native' | 'webgpu'> = [];
if (nativeStatus().available) backends.push('native'); else if (isCI) test('native available in CI', () => assert.unreachable());
if ((await gpuStatus()).available) backends.push('webgpu'); else if (isCI) test('webgpu available in CI', () => assert.unreachable());
for (const backend of backends) {
  test(`${backend} grpoStep agrees with js (losses × KL estimators × sizes)`, async () => {
    let seed = 10;
    const estimators: KlEstimator[] = ['k1', 'abs', 'k2', 'k3'];
    for (const [B, T] of [[1, 1], [8, 5], [64, 40], [200, 150]] as const) {
      for (const [i, loss] of (['vanilla', 'trl', 'gspo', 'cispo', 'sapo', 'gpg', 'gmpo'] as const).entries()) {
        const o = makeStep(B, T, seed++, { loss, klEstimator: estimators[i % 4], aggregation: i % 2 ? 'seq-mean-token-mean' : 'token-mean', klCoef: i === 5 ? 0 : 0.04 });
        try { await agree(o, backend); } catch (e) { throw new Error(`${B}×${T} ${loss} seed ${seed - 1}: ${(e as Error).message}`); }
      }
    }
  });
  test(`${backend} grpoStep reads back only what is asked`, async () => {
    const r = await grpoStep({ ...makeStep(8, 6, 3), read: undefined, backend });
    assert.is(r.gradient, undefined);
    assert.is(r.advantages, undefined);
    assert.type(r.loss, 'number');
    assert.ok(Number.isFinite(r.loss));
  });
}

if (backends.includes('native')) {
  test('native grpoStep KL term at the clamps and odd values (every estimator, every lane and tail position)', async () => {
    // ref − logp past ±20 and where k3 passes ±10, exact zeros (−0 for abs's sign), NaN and ±inf in the
    // reference; rows of 37 tokens (16-lane blocks and a tail). old = logp keeps the policy term finite.
    const deltas = [0, 0.5, -0.5, 2, 3, 15, -15, 25, -25, 30.5, -30.5, NaN, Infinity, -Infinity];
    const rows = 4, T = 37, n = rows * T, r = rng(11);
    const logProbs = Float32Array.from({ length: n }, () => -1 - r());
    logProbs[5] = -0;
    const refLogProbs = logProbs.map((x, t) => (t === 5 ? 0 : x + deltas[(t * 5) % deltas.length]!));
    const mask = Uint8Array.from({ length: n }, (_, t) => (t % T < T - (t / T | 0) ? 1 : 0));
    for (const klEstimator of ['k1', 'abs', 'k2', 'k3'] as const) {
      const o: GrpoStepOptions = { scores: Float32Array.from({ length: rows }, (_, i) => i % 2), groups: { size: 2 }, mask, shape: [rows, T],
        logProbs, oldLogProbs: logProbs, refLogProbs, klCoef: 0.1, klEstimator, read: ['gradient'] };
      const a = await grpoStep({ ...o, backend: 'js' }), b = await grpoStep({ ...o, backend: 'native' });
      assert.is(mismatch(b.gradient!, a.gradient!, 1e-6, 1e-7), '', `gradient ${klEstimator}`);
      assert.is(mismatch([b.klLoss, b.loss], [a.klLoss, a.loss], 1e-6, 1e-7), '', `klLoss ${klEstimator}`);
    }
  });
}

for (const backend of ['js', ...backends] as const) {
  test(`${backend} grpoStep writes into \`out\` (stale contents ignored) and gives the fresh-array bits`, async () => {
    const o = makeStep(24, 17, 7, { klEstimator: 'k3' }), fresh = await grpoStep({ ...o, backend });
    const tokens = fresh.gradient!.length, rows = fresh.rowAdvantages!.length;
    const out = { tokenAdvantages: new Float32Array(tokens).fill(NaN), rowAdvantages: new Float32Array(rows).fill(7), tokenLoss: new Float32Array(tokens).fill(-3), gradient: new Float32Array(tokens).fill(NaN) };
    for (let k = 0; k < 2; k++) { // twice: the second step starts from the first one's gradient
      const r = await grpoStep({ ...o, backend, out });
      assert.ok(r.advantages === out.tokenAdvantages && r.rowAdvantages === out.rowAdvantages && r.tokenLoss === out.tokenLoss && r.gradient === out.gradient);
      for (const key of ['advantages', 'rowAdvantages', 'tokenLoss', 'gradient'] as const) assert.is(mismatch(r[key]!, fresh[key]!, 0, 0), '', `${key}, step ${k}`);
      assert.is(r.loss, fresh.loss);
    }
  });
}

test('grpoStep errors name the argument', async () => {
  try { await grpoStep({ ...makeStep(4, 3, 1), refLogProbs: undefined }); assert.unreachable(); } catch (e: any) { assert.is(e.argument, 'refLogProbs'); }
  try { await grpoStep({ ...makeStep(4, 3, 1), read: ['logits' as any] }); assert.unreachable(); } catch (e: any) { assert.is(e.argument, 'read[0]'); }
  try { await grpoStep({ ...makeStep(4, 3, 1), klEstimator: 'k4' as any }); assert.unreachable(); } catch (e: any) { assert.is(e.argument, 'klEstimator'); }
  try { await grpoStep({ ...makeStep(4, 3, 1), out: 5 as any }); assert.unreachable(); } catch (e: any) { assert.is(e.argument, 'out'); }
  try { await grpoStep({ ...makeStep(4, 3, 1), out: { gradient: new Float32Array(1) } }); assert.unreachable(); } catch (e: any) { assert.is([e.code, e.argument].join(' '), 'E_SHAPE out.gradient'); }
  try { await grpoStep({ ...makeStep(4, 3, 1), out: { tokenAdvantages: new Float64Array(12) as any } }); assert.unreachable(); } catch (e: any) { assert.is([e.code, e.argument].join(' '), 'E_DTYPE out.tokenAdvantages'); }
  try { await grpoStep({ ...makeStep(4, 3, 1), out: { rowAdvantages: [0, 0, 0, 0] as any } }); assert.unreachable(); } catch (e: any) { assert.is(e.argument, 'out.rowAdvantages'); }
});

test.after(() => disposeDefaultContext());
test.run();
