/**
 * The benchmark harness's core: the runner times each case on every backend and peer and judges
 * memory-bound ops against a roofline measured in the same run; failures are recorded, not thrown;
 * `auto` thresholds are derived from crossovers and read back from the file `auto` loads.
 * (The registry of real ops and the CLI are tested in bench-ops.test.ts.)
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { grpoAdvantages, nativeStatus } from '../lib/index.js';
import { parseThresholds } from '../lib/backends/thresholds.js';
import { disposeDefaultContext } from '../lib/backends/webgpu/context.js';
import { tokenBatch } from '../lib/bench/inputs.js';
import { runBench, selectOps } from '../lib/bench/runner.js';
import { stats } from '../lib/bench/stats.js';
import { deriveThresholds, saveThresholds } from '../lib/bench/thresholds.js';
import type { BenchReport, OpBench, Peer } from '../lib/bench/types.js';

const dir = mkdtempSync(join(tmpdir(), 'rewardkit-harness-'));

const grpo: OpBench = {
  id: 'grpoAdvantages', op: 'grpoAdvantages', family: 'advantages', unit: 'tokens', backends: ['js', 'native'], bound: 'memory',
  sizes: { smoke: [2048], small: [2048, 8192], laptop: [8192], datacenter: [8192] },
  setup(size) {
    const b = tokenBatch(size, 256);
    const out = { tokenAdvantages: new Float32Array(b.tokens), rowAdvantages: new Float32Array(b.rows) };
    return {
      label: `${b.rows} × ${b.cols}`, bytes: b.tokens * 5 + b.rows * 12,
      run: (backend) => grpoAdvantages({ scores: b.scores, mask: b.mask, shape: b.shape, groups: b.groups, backend, out }),
      peer: { op: 'grpo', inputs: { scores: b.scores }, params: { rows: b.rows } },
    };
  },
};
const broken: OpBench = {
  id: 'broken/op', op: 'broken', family: 'eval', unit: 'items', backends: ['js'], bound: 'cpu',
  sizes: { smoke: [1], small: [1], laptop: [1], datacenter: [1] },
  setup: () => ({ label: 'throws', bytes: 0, run: () => { throw new Error('kaput'); } }),
};
const fakePeer = (name: string, ok: boolean): Peer => ({
  name, probe: async () => (ok ? { ok, version: '1.0' } : { ok, reason: 'no such library' }),
  supports: (op) => op === 'grpo', time: async () => [0.5, 0.25, 1],
  close: async () => undefined,
});

test('stats: median and quartiles of per-call times', () => {
  const s = stats([4, 1, 3, 2]);
  assert.is(s.medianMs, 2.5); assert.is(s.minMs, 1); assert.is(s.p25Ms, 1.75); assert.is(s.p75Ms, 3.25); assert.is(s.samples, 4);
});

test('selectOps filters by family and by the start of the op name or variant', () => {
  assert.equal(selectOps([grpo, broken], ['GRPO']).map((o) => o.id), ['grpoAdvantages']);
  assert.equal(selectOps([grpo, broken], ['op']).map((o) => o.id), ['broken/op']);
  assert.equal(selectOps([grpo, broken], ['advantages']).map((o) => o.id), ['grpoAdvantages']);
  assert.equal(selectOps([grpo, broken], ['roken/o']).map((o) => o.id), []);
  assert.equal(selectOps([grpo, broken], ['eval']).map((o) => o.id), ['broken/op']);
  assert.is(selectOps([grpo, broken]).length, 2);
});

test('runner: every backend and installed peer timed, roofline measured, failures recorded', async () => {
  const seen: string[] = [];
  const report = await runBench([grpo, broken], {
    preset: 'small', backends: ['js', 'native', 'numpy', 'absent'], peers: [fakePeer('numpy', true), fakePeer('absent', false)],
    minTimeMs: 0, minIterations: 2, onResult: (r, done, total) => seen.push(`${r.backend}:${done}/${total}`),
  });
  const backends = nativeStatus().available ? ['js', 'native'] : ['js'];
  for (const size of [2048, 8192]) {
    for (const b of [...backends, 'numpy']) {
      const r = report.results.find((x) => x.id === 'grpoAdvantages' && x.size === size && x.backend === b);
      assert.ok(r, `no result for ${b} at ${size}`);
      assert.ok(r!.medianMs > 0 && r!.gbps > 0 && r!.samples >= 2);
      assert.is(r!.peer, b === 'numpy');
      assert.ok(r!.roofline && r!.roofline.kind === 'host-memcpy' && r!.roofline.fraction > 0, 'memory-bound results carry a roofline');
    }
  }
  assert.equal(report.results.find((x) => x.backend === 'numpy')!.medianMs, 0.5);
  assert.equal(report.peers, [{ name: 'numpy', status: 'ok', version: '1.0' }, { name: 'absent', status: 'not installed', reason: 'no such library' }]);
  assert.is(report.failures.length, 1);
  assert.match(report.failures[0]!.error, 'kaput');
  assert.ok(report.rooflines[0]!.points.length >= 1 && report.rooflines[0]!.points.every((p) => p.gbps > 0));
  assert.ok(seen.length >= 2 * (backends.length + 1));
  assert.ok(report.ops.some((o) => o.id === 'broken/op'));
});

test('runner: a backend is skipped at sizes where its extrapolated call time passes maxCallMs', async () => {
  const report = await runBench([grpo], { preset: 'small', backends: ['js'], minTimeMs: 0, minIterations: 2, maxCallMs: 1e-9 });
  assert.equal(report.results.map((r) => r.size), [2048]);
  assert.is(report.skipped!.length, 1);
  assert.is(report.skipped![0]!.size, 8192);
  assert.match(report.skipped![0]!.reason, 'predicted');
});

const synthetic = (adapterSoftware: boolean | null, elementsPerSize = 1): BenchReport => {
  const r = (size: number, backend: string, ms: number) => ({ id: 'grpoAdvantages', op: 'grpoAdvantages', family: 'advantages' as const, unit: 'tokens', size, elements: size * elementsPerSize, label: '', backend, peer: false, bytes: size, gbps: 1, medianMs: ms, meanMs: ms, minMs: ms, p25Ms: ms, p75Ms: ms, p99Ms: ms, samples: 3 });
  return {
    version: 1, date: '2026-11-27T00:00:00Z', command: '', preset: 'small', machine: { cpu: 'x', cores: 2, memoryGiB: 1, os: '', node: '' },
    native: null, adapter: adapterSoftware === null ? null : { vendor: '', architecture: '', device: '', description: '', software: adapterSoftware },
    rooflines: [], peers: [], ops: [{ id: 'grpoAdvantages', op: 'grpoAdvantages', family: 'advantages', unit: 'tokens', bound: 'memory', backends: ['js', 'native', 'webgpu'] }],
    // native wins from 1,000 on except a blip at 100 (then loses again: the crossover is where it stays ahead)
    results: [r(10, 'js', 1), r(10, 'native', 2), r(10, 'webgpu', 9), r(100, 'js', 2), r(100, 'native', 1), r(100, 'webgpu', 9),
      r(1000, 'js', 3), r(1000, 'native', 4), r(1000, 'webgpu', 2), r(10000, 'js', 9), r(10000, 'native', 2), r(10000, 'webgpu', 1)],
    failures: [], durationS: 1,
  };
};

test('thresholds: the crossover is where a backend stays ahead; webgpu only from a hardware adapter', () => {
  assert.equal(deriveThresholds(synthetic(false)), { grpoAdvantages: { native: 10000, webgpu: 1000 } });
  const soft = deriveThresholds(synthetic(true))['grpoAdvantages']!;
  assert.is(soft.native, 10000);
  assert.is(soft.webgpu, 16_777_216, 'a software adapter keeps the built-in webgpu threshold');
  assert.equal(deriveThresholds(synthetic(false, 3)), { grpoAdvantages: { native: 30000, webgpu: 3000 } }, 'in the elements auto sees');
});

test('thresholds: saved where auto reads them, merged with earlier entries; bad entries ignored', () => {
  const file = join(dir, 'thresholds.json');
  writeFileSync(file, JSON.stringify({ thresholds: { gae: { native: 5 }, broken: { native: 'x' } } }));
  saveThresholds(deriveThresholds(synthetic(false)), synthetic(false), file);
  const read = spawnSync(process.execPath, ['--input-type=module', '-e',
    `const t = await import(${JSON.stringify(new URL('../lib/backends/thresholds.js', import.meta.url).href)}); console.log(JSON.stringify({ t: t.thresholds, s: t.thresholdsSource }))`],
  { env: { ...process.env, REWARDKIT_THRESHOLDS: file }, encoding: 'utf8' });
  assert.is(read.status, 0, read.stderr);
  const { t, s } = JSON.parse(read.stdout) as { t: Record<string, { native: number; webgpu: number }>; s: string };
  assert.is(s, file);
  assert.equal(t['grpoAdvantages'], { native: 10000, webgpu: 1000 });
  assert.is(t['gae']!.native, 5);
  assert.is(t['broken'], undefined);
  assert.equal(parseThresholds('{"thresholds":{"a":{"native":-1},"b":{"webgpu":7}}}'), { b: { native: 65_536, webgpu: 7 } });
});

test('thresholds: a malformed file leaves the built-in table', () => {
  const file = join(dir, 'bad.json');
  writeFileSync(file, '{not json');
  const read = spawnSync(process.execPath, ['--input-type=module', '-e',
    `const t = await import(${JSON.stringify(new URL('../lib/backends/thresholds.js', import.meta.url).href)}); console.log(t.thresholdsSource, t.thresholds.default.native)`],
  { env: { ...process.env, REWARDKIT_THRESHOLDS: file }, encoding: 'utf8' });
  assert.match(read.stdout.trim(), /^built-in.* 65536$/);
});

test.after(() => { disposeDefaultContext(); rmSync(dir, { recursive: true, force: true }); });
test.run();
