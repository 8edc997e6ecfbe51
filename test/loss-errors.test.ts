/**
 * Typed errors for malformed policyLoss / aggLoss / valueLoss inputs, and a fast-check fuzz of
 * malformed and edge inputs on every backend: each call returns outputs of the right length or
 * throws a RewardkitError — never crashes, never throws anything else. The native kernel is also
 * called directly with malformed arguments (below the TypeScript checks).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fc from 'fast-check';
import { aggLoss, disposeDefaultContext, gpuStatus, nativeStatus, policyLoss, RewardkitError, valueLoss, type PolicyLossOptions } from '../lib/index.js';
import { loadNative } from '../lib/backends/native.js';

const ok: PolicyLossOptions = {
  logProbs: [-1, -2, -0.5, -3], oldLogProbs: [-1.1, -2, -0.4, -3], advantages: [1, 1, -1, -1],
  mask: new Uint8Array([1, 1, 1, 0]), shape: [2, 2],
};

async function rejects(options: unknown, code: string, argument: RegExp, op: (o: any) => Promise<unknown> = policyLoss): Promise<void> {
  try {
    await op(options);
    assert.unreachable(`accepted ${JSON.stringify(options)}`);
  } catch (e: any) {
    assert.instance(e, RewardkitError, String(e));
    assert.is(e.code, code, e.message);
    assert.match(e.argument ?? '', argument, e.message);
    assert.match(e.message, /^Expected /);
  }
}

test('malformed policyLoss inputs name the argument', async () => {
  await rejects(null, 'E_VALUE', /options/);
  await rejects({ ...ok, logProbs: [1, 2] }, 'E_SHAPE', /logProbs/);
  await rejects({ ...ok, oldLogProbs: 'x' }, 'E_DTYPE', /oldLogProbs/);
  await rejects({ ...ok, advantages: new Int32Array(4) }, 'E_DTYPE', /advantages/);
  await rejects({ ...ok, importanceWeights: [1] }, 'E_SHAPE', /importanceWeights/);
  await rejects({ ...ok, loss: 'ppo' }, 'E_VALUE', /loss/);
  await rejects({ ...ok, preset: 'x' }, 'E_VALUE', /preset/);
  await rejects({ ...ok, aggregation: 'mean' }, 'E_VALUE', /aggregation/);
  await rejects({ ...ok, clipC: 1 }, 'E_VALUE', /clipC/);
  await rejects({ ...ok, clipLow: -0.1 }, 'E_VALUE', /clipLow/);
  await rejects({ ...ok, clipHigh: NaN }, 'E_VALUE', /clipHigh/);
  await rejects({ ...ok, delta: 0 }, 'E_VALUE', /delta/);
  await rejects({ ...ok, tauNeg: 0 }, 'E_VALUE', /tauNeg/);
  await rejects({ ...ok, aggregation: 'dr_grpo' }, 'E_VALUE', /maxCompletionLength/);
  await rejects({ ...ok, dpSize: 0 }, 'E_VALUE', /dpSize/);
  await rejects({ ...ok, batchNumTokens: 1.5 }, 'E_VALUE', /batchNumTokens/);
  await rejects({ ...ok, lossScaleFactor: -1, aggregation: 'seq-mean-token-sum-norm' }, 'E_VALUE', /lossScaleFactor/);
  await rejects({ ...ok, mask: new Uint8Array(3) }, 'E_SHAPE', /mask/);
  await rejects({ ...ok, shape: undefined, offsets: [0, 3, 2] }, 'E_VALUE', /offsets/);
  await rejects({ ...ok, out: { gradient: new Float32Array(3) } }, 'E_SHAPE', /out.gradient/);
  await rejects({ ...ok, out: { tokenLoss: [] } }, 'E_DTYPE', /out.tokenLoss/);
  await rejects({ ...ok, backend: 'cuda' }, 'E_VALUE', /backend/);
  await rejects({ mask: ok.mask, shape: ok.shape, lossMat: [1, 2] }, 'E_SHAPE', /lossMat/, aggLoss);
  await rejects({ mask: ok.mask, shape: ok.shape, vpreds: [1, 2, 3, 4], values: [1, 2, 3, 4], returns: [1, 2, 3, 4], cliprange: -1 }, 'E_VALUE', /cliprange/, valueLoss);
  await rejects({ mask: ok.mask, shape: ok.shape, vpreds: [1, 2, 3, 4], values: [1, 2, 3], returns: [1, 2, 3, 4] }, 'E_SHAPE', /values/, valueLoss);
});

const num = fc.oneof(fc.integer({ min: -3, max: 40 }), fc.double(), fc.constantFrom(NaN, Infinity, -Infinity, 0.5, -0, 2 ** 32));
const anything = fc.oneof(fc.constant(undefined), fc.constant(null), fc.string(), num, fc.boolean(), fc.object());
// Mostly well-formed (six tokens: [2, 3] or offsets [0, 2, 2, 6]), so the backends run often.
const floats = fc.oneof(
  { arbitrary: fc.array(fc.double({ min: -30, max: 5, noNaN: true }), { minLength: 6, maxLength: 6 }).map((a) => Float32Array.from(a)), weight: 6 },
  { arbitrary: fc.array(num, { minLength: 6, maxLength: 6 }), weight: 2 },
  { arbitrary: fc.array(num, { maxLength: 12 }).map((a) => Float32Array.from(a)), weight: 1 },
  { arbitrary: anything, weight: 1 },
);
const maybe = <T>(a: fc.Arbitrary<T>) => fc.oneof({ arbitrary: fc.constant(undefined), weight: 4 }, { arbitrary: a, weight: 1 });
const ints = fc.array(fc.integer({ min: -2, max: 8 }), { maxLength: 8 });
const optionsArb = fc.record({
  logProbs: floats, oldLogProbs: floats, advantages: floats, importanceWeights: maybe(floats),
  mask: fc.oneof({ arbitrary: fc.array(fc.integer({ min: 0, max: 3 }), { minLength: 6, maxLength: 6 }).map((a) => Uint8Array.from(a)), weight: 5 }, fc.array(num, { maxLength: 8 }).map((a) => Float32Array.from(a)), anything),
  shape: fc.oneof({ arbitrary: fc.constantFrom([2, 3], [3, 2], [6, 1]), weight: 5 }, fc.tuple(num, num), anything),
  offsets: fc.oneof({ arbitrary: fc.constant(undefined), weight: 6 }, fc.constant([0, 2, 2, 6]), ints.map((a) => [0, ...a.map(Math.abs).sort((x, y) => x - y)]), anything),
  loss: fc.oneof({ arbitrary: fc.constantFrom('vanilla', 'trl', 'gspo', 'cispo', 'sapo', 'gpg', 'gmpo'), weight: 8 }, fc.constant('x'), anything),
  preset: maybe(fc.constantFrom('verl', 'trl', 'openrlhf', 'dapo', 'y')),
  aggregation: fc.oneof({ arbitrary: fc.constantFrom('token-mean', 'seq-mean-token-sum', 'seq-mean-token-mean', 'seq-mean-token-sum-norm', 'grpo', 'bnpo', 'dr_grpo', 'dapo'), weight: 8 }, anything),
  clipLow: maybe(num), clipHigh: maybe(num), clipC: maybe(fc.oneof(num, fc.constant(null))), delta: maybe(fc.oneof(num, fc.constant(null))),
  dpSize: maybe(num), batchNumTokens: maybe(num), globalBatchSize: maybe(num), lossScaleFactor: maybe(num),
  maxCompletionLength: fc.oneof({ arbitrary: fc.constant(7), weight: 4 }, num),
}, { requiredKeys: ['logProbs', 'oldLogProbs', 'advantages', 'loss', 'aggregation', 'maxCompletionLength'] });

const backends: Array<'js' | 'native' | 'webgpu'> = ['js'];
if (nativeStatus().available) backends.push('native');
if ((await gpuStatus()).available) backends.push('webgpu');

for (const backend of backends) {
  test(`fuzz (${backend}): only RewardkitErrors or well-formed results`, async () => {
    let accepted = 0;
    await fc.assert(fc.asyncProperty(optionsArb, async (options) => {
      try {
        const r = await policyLoss({ ...(options as PolicyLossOptions), backend });
        assert.is(r.gradient.length, r.tokenLoss.length);
        assert.type(r.loss, 'number');
        accepted++;
      } catch (e) {
        if (!(e instanceof RewardkitError)) throw e;
      }
    }), { numRuns: backend === 'webgpu' ? 150 : 400, seed: 42 });
    assert.ok(accepted > 0, 'some inputs are well-formed');
  });
}

if (nativeStatus().available) {
  test('the native kernel checks its own arguments', async () => {
    const addon = loadNative() as unknown as Record<string, (a: unknown) => Promise<unknown>>;
    const good = { rows: 1, tokens: 2, offsets: new Uint32Array([0, 2]), mask: null, kind: 0, agg: 0, estimator: 3, x: new Float32Array(2), old: new Float32Array(2), adv: new Float32Array(2), weights: null,
      dpSize: 1, batchNumTokens: 0, globalBatchSize: 0, lossScaleFactor: 2, maxCompletionLength: 0, numProcesses: 1, globalActiveTokens: 0,
      lo: 0.8, hi: 1.2, clipC: 3, delta: 0, tauPos: 1, tauNeg: 1.05, cliprange: 0, scale: 1, accumulate: false, outLoss: new Float32Array(2), outGrad: new Float32Array(2) };
    await addon['lossKernel']!(good);
    for (const bad of [{ x: new Float32Array(1) }, { offsets: new Uint32Array([0, 3]) }, { kind: 10 }, { agg: 8 }, { estimator: 4 }, { outGrad: null }, { mask: new Uint8Array(1) }, { accumulate: 1 }]) {
      assert.throws(() => addon['lossKernel']!({ ...good, ...bad }), /rewardkit native/);
    }
  });
}

test.after(() => disposeDefaultContext());
test.run();
