/**
 * The addon's thread pool (native/common/parallel.h) under concurrent calls: many ops in flight at
 * once share the pool's threads, and each must give exactly the bits it gives when it runs alone
 * (every kernel's sums are fixed per chunk, not per thread, so sharing may not change a result).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { nativeStatus, policyLoss, tokenLogProbs, type PolicyLossResult, type TokenLogProbsResult } from '../lib/index.js';
import { loadNative } from '../lib/backends/native.js';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { rng } from './helpers.js';

const index = fileURLToPath(new URL('../lib/index.js', import.meta.url));

/** Runs `code` (with nativeStatus and policyLoss in scope) in a child node under `env`; its stdout. */
function child(env: Record<string, string>, code: string): string {
  const script = `import { nativeStatus, policyLoss } from ${JSON.stringify(index)};\n${code}`;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { env: { ...process.env, ...env }, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(r.stderr);
  return r.stdout.trim();
}

const same = (a: Float32Array, b: Float32Array) => Buffer.compare(Buffer.from(a.buffer, a.byteOffset, a.byteLength), Buffer.from(b.buffer, b.byteOffset, b.byteLength)) === 0;

/** Large cases run on the libuv pool; small ones (odd seeds: under OpArgs::kInlineBytes) on the JS thread. */
function lossCase(seed: number) {
  const small = seed % 2 === 1;
  const r = rng(seed), rows = small ? 2 + (seed % 5) : 24 + (seed % 5) * 8, T = small ? 37 : 4096, n = rows * T;
  const logProbs = Float32Array.from({ length: n }, () => -3 * r());
  const oldLogProbs = logProbs.map((x) => x + (r() - 0.5) * 0.6);
  const advantages = Float32Array.from({ length: n }, () => 2 * r() - 1);
  const mask = Uint8Array.from({ length: n }, (_, i) => (i % T < (small ? 30 : 100 + (Math.floor(i / T) * 977) % (T - 100)) ? 1 : 0));
  return () => policyLoss({ logProbs, oldLogProbs, advantages, mask, shape: [rows, T], backend: 'native' });
}

function logitsCase(seed: number) {
  const r = rng(seed), N = 40 + seed % 7, V = 8192;
  const logits = Float32Array.from({ length: N * V }, () => 8 * r() - 4);
  const labels = Int32Array.from({ length: N }, () => Math.floor(r() * V));
  return () => tokenLogProbs({ logits, shape: [N, V], labels, backend: 'native' });
}

if (nativeStatus().available) {
  test('concurrent native calls (queued and inline) give the bits of the same calls run one at a time', async () => {
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

  test('REWARDKIT_THREADS sets the pool size; the results do not depend on it', () => {
    const code = `const n = 64 * 4096, x = new Float32Array(n).map((_, i) => -((i * 40503) % 1000) / 300), o = x.map((v, i) => v + ((i % 7) - 3) / 20), a = new Float32Array(n).map((_, i) => ((i >> 12) % 3) - 1);
      const r = await policyLoss({ logProbs: x, oldLogProbs: o, advantages: a, shape: [64, 4096], mask: new Uint8Array(n).fill(1), backend: 'native' });
      console.log(JSON.stringify([nativeStatus().info.threads, r.loss, r.metrics, Array.from(r.gradient.subarray(0, 8))]));`;
    const one = JSON.parse(child({ REWARDKIT_THREADS: '1' }, code)), three = JSON.parse(child({ REWARDKIT_THREADS: '3' }, code));
    assert.is(one[0], 1);
    assert.is(three[0], 3);
    assert.equal(one.slice(1), three.slice(1));
  });

  test('a REWARDKIT_THREADS that is not a positive integer leaves native unavailable, saying why', () => {
    for (const bad of ['0', 'abc', '-2', '1.5', '']) {
      const st = JSON.parse(child({ REWARDKIT_THREADS: bad }, 'console.log(JSON.stringify(nativeStatus()));'));
      assert.is(st.available, false, bad);
      assert.match(st.reason, 'REWARDKIT_THREADS', bad);
    }
  });
} else {
  test.skip('native pool (addon unavailable)', () => {});
}
test.run();
