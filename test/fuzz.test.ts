/**
 * Fuzzing the boundaries: thousands of random, mostly malformed inputs to every backend. Each call
 * must either return outputs of the right length or throw a RewardkitError — never crash, never
 * hang, never throw anything else. The native addon is also fed malformed objects directly, below
 * the TypeScript checks, to prove its own checks hold.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fc from 'fast-check';
import { disposeDefaultContext, gpuStatus, grpoAdvantages, nativeStatus, RewardkitError } from '../lib/index.js';
import { loadNative } from '../lib/backends/native.js';

const num = fc.oneof(fc.integer({ min: -3, max: 40 }), fc.double(), fc.constantFrom(NaN, Infinity, -Infinity, 0.5, -0, 2 ** 32));
const ints = fc.array(fc.integer({ min: -2, max: 12 }), { maxLength: 24 });
const anything = fc.oneof(fc.constant(undefined), fc.constant(null), fc.string(), num, fc.boolean(), fc.object());
const floats = fc.oneof(
  fc.array(num, { maxLength: 24 }),
  fc.array(num, { maxLength: 24 }).map((a) => Float32Array.from(a)),
  fc.array(num, { maxLength: 24 }).map((a) => Float64Array.from(a)),
  ints.map((a) => Int32Array.from(a)),
  anything,
);
const masks = fc.oneof(
  fc.array(fc.integer({ min: 0, max: 255 }), { maxLength: 24 }).map((a) => Uint8Array.from(a)),
  fc.array(num, { maxLength: 24 }).map((a) => Float32Array.from(a)),
  ints, anything,
);
const optionsArb = fc.record({
  scores: floats,
  mask: masks,
  shape: fc.oneof(fc.tuple(num, num), fc.array(num, { maxLength: 3 }), anything),
  offsets: fc.oneof(ints, ints.map((a) => Uint32Array.from(a.map(Math.abs))), ints.map((a) => [0, ...a.map(Math.abs).sort((x, y) => x - y)]), anything),
  groups: fc.oneof(ints, ints.map((a) => Uint32Array.from(a.map(Math.abs))), fc.record({ size: num }), anything),
  numGroups: fc.oneof(num, anything),
  scoreLevel: fc.oneof(fc.constantFrom('row', 'token', 'tokens'), anything),
  sumMasked: fc.oneof(fc.boolean(), anything),
  preset: fc.oneof(fc.constantFrom('verl', 'trl', 'x'), anything),
  scale: fc.oneof(fc.constantFrom('group', 'batch', 'none', 'y'), anything),
  epsilon: fc.oneof(num, anything),
}, { requiredKeys: [] });

const backends: Array<'js' | 'native' | 'webgpu'> = ['js'];
if (nativeStatus().available) backends.push('native');
if ((await gpuStatus()).available) backends.push('webgpu');

for (const backend of backends) {
  test(`fuzz ${backend}: 2,000 random inputs, zero crashes, only RewardkitErrors`, async () => {
    let accepted = 0;
    await fc.assert(fc.asyncProperty(optionsArb, async (o) => {
      try {
        const r = await grpoAdvantages({ ...(o as object), backend } as never);
        accepted++;
        return r.rowAdvantages instanceof Float32Array && r.tokenAdvantages instanceof Float32Array;
      } catch (e) {
        if (!(e instanceof RewardkitError)) throw e;
        return /Expected .+ but received |unavailable/.test(e.message);
      }
    }), { numRuns: 2000, seed: 4242 });
    console.log(`  ${backend}: ${accepted} of 2000 inputs were valid and computed`);
  });
}

if (nativeStatus().available) {
  test('the addon itself rejects malformed objects without crashing', async () => {
    const addon = loadNative();
    const good = () => ({
      rows: 2, cols: 2, tokens: 4, mask: new Uint8Array(4).fill(1), offsets: null, scores: new Float32Array(2),
      tokenScores: false, sumMasked: false, groupIds: new Uint32Array(2), numGroups: 1, trl: false, scale: 0,
      epsilon: 1e-6, outTokens: new Float32Array(4), outRows: new Float32Array(2),
    });
    const breakers: Array<(o: any) => void> = [
      (o) => { o.rows = 100; }, (o) => { o.cols = -1; }, (o) => { o.tokens = 1e12; }, (o) => { o.mask = new Uint8Array(1); },
      (o) => { o.mask = 'x'; }, (o) => { o.scores = null; }, (o) => { o.groupIds = new Uint32Array([0, 7]); },
      (o) => { o.numGroups = 0; }, (o) => { o.outTokens = new Float32Array(1); }, (o) => { o.outRows = new Float64Array(2); },
      (o) => { o.offsets = new Uint32Array([0, 5, 1]); o.mask = null; }, (o) => { o.offsets = new Uint32Array([0, 1]); o.mask = null; },
      (o) => { o.scale = 9; }, (o) => { o.tokenScores = true; },
    ];
    for (const [i, breakIt] of breakers.entries()) {
      const o = good();
      breakIt(o);
      let threw = false;
      try { await addon.grpoAdvantages(o as never); } catch { threw = true; }
      assert.ok(threw, `breaker ${i} was accepted`);
    }
    await addon.grpoAdvantages(good() as never); // and the good one still works
  });
}

test.after(() => disposeDefaultContext());
test.run();
