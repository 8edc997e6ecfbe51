/**
 * The addon's thread pool (native/common/parallel.h) under concurrent calls: many ops in flight at
 * once share the pool's threads, and each must give exactly the bits it gives when it runs alone
 * (every kernel's sums are fixed per chunk, not per thread, so sharing may not change a result).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { nativeStatus, policyLoss, tokenLogProbs, type PolicyLossResult, type TokenLogProbsResult } from '../lib/index.js';
import { loadNative } from '../lib/backends/native.js';
import { rng } from './helpers.js';

const same = (a: Float32Array, b: Float32Array) => Buffer.compare(Buffer.from(a.buffer, a.byteOffset, a.byteLength), Buffer.from(b.buffer, b.byteOffset, b.byteLength)) === 0;

function lossCase(seed: number) {
  const r = rng(seed), rows = 24 + (seed % 5) * 8, T = 4096, n = rows * T;
  const logProbs = Float32Array.from({ length: n }, () => -3 * r());
  const oldLogProbs = logProbs.map((x) => x + (r() - 0.5) * 0.6);
  const advantages = Float32Array.from({ length: n }, () => 2 * r() - 1);
  const mask = Uint8Array.from({ length: n }, (_, i) => (i % T < 100 + (Math.floor(i / T) * 977) % (T - 100) ? 1 : 0));
  return () => policyLoss({ logProbs, oldLogProbs, advantages, mask, shape: [rows, T], backend: 'native' });
}

function logitsCase(seed: number) {
  const r = rng(seed), N = 40 + seed % 7, V = 8192;
  const logits = Float32Array.from({ length: N * V }, () => 8 * r() - 4);
  const labels = Int32Array.from({ length: N }, () => Math.floor(r() * V));
  return () => tokenLogProbs({ logits, shape: [N, V], labels, backend: 'native' });
}

if (nativeStatus().available) {
  test('concurrent native calls give the bits of the same calls run one at a time', async () => {
    const losses = Array.from({ length: 12 }, (_, i) => lossCase(i + 1));
    const logits = Array.from({ length: 12 }, (_, i) => logitsCase(i + 100));
    const lossAlone: PolicyLossResult[] = [], logitsAlone: TokenLogProbsResult[] = [];
    for (const f of losses) lossAlone.push(await f());
    for (const f of logits) logitsAlone.push(await f());
    for (let round = 0; round < 3; round++) {
      const [l, g] = await Promise.all([Promise.all(losses.map((f) => f())), Promise.all(logits.map((f) => f()))]);
      l.forEach((x, i) => {
        const a = lossAlone[i]!;
        assert.ok(Object.is(x.loss, a.loss) && same(x.gradient, a.gradient) && same(x.tokenLoss, a.tokenLoss), `loss case ${i}, round ${round}`);
        assert.equal(x.metrics, a.metrics);
      });
      g.forEach((x, i) => assert.ok(same(x.logProbs!, logitsAlone[i]!.logProbs!) && same(x.entropy!, logitsAlone[i]!.entropy!), `logits case ${i}, round ${round}`));
    }
  });

  test('concurrent copies of many sizes are all complete', async () => {
    const addon = loadNative();
    const sizes = [1, 63, 64, 1023, 4096, 65_537, 1 << 20, (1 << 22) + 3];
    const pairs = sizes.map((n, i) => ({ src: Uint8Array.from({ length: n }, (_, j) => (j * 31 + i) & 255), dst: new Uint8Array(n) }));
    await Promise.all(pairs.map(({ src, dst }) => addon.copy(dst, src)));
    pairs.forEach(({ src, dst }) => assert.ok(Buffer.compare(src, dst) === 0, `copy of ${src.length} bytes`));
  });
} else {
  test.skip('native pool (addon unavailable)', () => {});
}
test.run();
