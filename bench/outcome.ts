/**
 * Outcome estimators (outcomeAdvantages), process supervision and dynamic sampling at 8,192 × 1,024
 * tokens (per-row 0/1 scores, u8 mask, groups of 16) on js and native (and webgpu with --webgpu),
 * beside a memcpy moving the same bytes, measured in the same bench (so under the same load) as
 * every estimator. Prints the median and minimum wall time and the process CPU time per token
 * (process.cpuUsage: all threads, so the native workers too; far steadier than wall time on a
 * loaded machine); ratios to js and memcpy on medians, [on minimums].
 *
 *   node dist/bench/outcome.js [--max 8388608] [--estimators rloo,opo] [--iterations 5] [--webgpu]
 */
import { Bench } from 'tinybench';
import { dynamicSamplingFilter, nativeStatus, outcomeAdvantages, outcomeEstimators, processAdvantages } from '../lib/index.js';
import { loadNative } from '../lib/backends/native.js';
import { disposeDefaultContext, gpuStatus } from '../lib/backends/webgpu/context.js';

const arg = (name: string) => { const i = process.argv.indexOf(`--${name}`); return i > 0 ? process.argv[i + 1] : undefined; };
const T = 1024, G = 16;
const tokens = Math.min(Number(arg('max') ?? 8192 * T), 8192 * T);
const rows = Math.max(G, Math.floor(tokens / T / G) * G);
const estimators = (arg('estimators') ?? outcomeEstimators().join(',')).split(',');
const backends: Array<'js' | 'native' | 'webgpu'> = ['js'];
if (nativeStatus().available) backends.push('native'); else console.log(`native skipped: ${nativeStatus().reason}`);
if (process.argv.includes('--webgpu') && (await gpuStatus()).available) backends.push('webgpu');

const N = rows * T;
const scores = new Float32Array(rows), mask = new Uint8Array(N), groups = new Int32Array(rows);
for (let i = 0; i < rows; i++) {
  scores[i] = (i * 2654435761) % 7 < 3 ? 1 : 0;
  groups[i] = Math.floor(i / G);
  mask.fill(1, i * T, i * T + 16 + ((i * 7919) % (T - 16)));
}
// Four steps per row for process supervision, ending at tokens 100, 300, 600, 1000.
const stepOffsets = Uint32Array.from({ length: rows + 1 }, (_, i) => 4 * i);
const stepEnds = Uint32Array.from({ length: 4 * rows }, (_, j) => [100, 300, 600, 1000][j % 4]!);
const stepRewards = Float32Array.from({ length: 4 * rows }, (_, j) => ((j * 40503) % 11) / 10);

const latency = (bench: Bench, name: string) => (bench.tasks.find((t) => t.name === name)!.result as unknown as { latency: { p50: number; min: number } }).latency;
const median = (bench: Bench, name: string) => latency(bench, name).p50;
const iterations = Number(arg('iterations') ?? 5);
const bench = () => new Bench({ time: 0, iterations, warmupIterations: 1, warmupTime: 0 });
// CPU µs per task name of the bench being run, summed over all its calls (warm-up included).
let cpu: Record<string, { us: number; calls: number }> = {};
const cpuTimed = (name: string, fn: () => Promise<unknown> | unknown) => {
  const acc = (cpu[name] = { us: 0, calls: 0 });
  return async () => { const c0 = process.cpuUsage(); await fn(); const c = process.cpuUsage(c0); acc.us += c.user + c.system; acc.calls++; };
};
const nsPerToken = (name: string) => (cpu[name]!.us * 1e3) / cpu[name]!.calls / N;
const out = { tokenAdvantages: new Float32Array(N).fill(1), rowAdvantages: new Float32Array(rows).fill(1) };

// memcpy of the bytes an outcome estimator moves: read the mask (1 B/token), write f32 advantages (4 B/token).
const bytes = N * 5;
const src = new Uint8Array(bytes / 2), dst = new Uint8Array(bytes / 2);
src.fill(1);
dst.fill(1);  // touch every page now: first-touch faults would land in the first memcpy timings
const addon = nativeStatus().available ? loadNative() : null;
const MEMCPY = addon ? 'memcpy (native)' : 'memcpy (1 thread)';
const withMemcpy = (b: Bench) => b.add(MEMCPY, cpuTimed(MEMCPY, addon ? () => addon.copy(dst, src) : () => { dst.set(src); }));
console.log(`${rows} × ${T} = ${N} tokens, ${iterations} iterations; ${MEMCPY} of ${bytes / 1e6} MB (read + write) beside every estimator`);
console.log('per backend: median / min wall ms, CPU ns per token (× js on medians, × memcpy on medians [min / min])');

const report = (label: string, b: Bench) => {
  const js = median(b, 'js'), copy = latency(b, MEMCPY);
  console.log(`${label.padEnd(30)} ` + backends.map((x) => {
    const l = latency(b, x);
    return `${x} ${l.p50.toFixed(2)} / ${l.min.toFixed(2)} ms, ${nsPerToken(x).toFixed(2)} ns/tok${x === 'js' ? '' : ` (${(js / l.p50).toFixed(1)}× js, ${(l.p50 / copy.p50).toFixed(2)}× memcpy [${(l.min / copy.min).toFixed(2)}])`}`;
  }).join(' | ') + ` | memcpy ${copy.p50.toFixed(2)} / ${copy.min.toFixed(2)} ms, ${nsPerToken(MEMCPY).toFixed(2)} ns/tok`);
};

for (const estimator of estimators) {
  const b = bench();
  cpu = {};
  for (const backend of backends) b.add(backend, cpuTimed(backend, () => outcomeAdvantages({ estimator, scores, mask, shape: [rows, T], groups, scoreLevel: 'row', backend, out })));
  withMemcpy(b);
  await b.run();
  report(estimator, b);
}
{
  const b = bench();
  const o = { tokenAdvantages: out.tokenAdvantages, stepAdvantages: new Float32Array(4 * rows) };
  cpu = {};
  for (const backend of backends) b.add(backend, cpuTimed(backend, () => processAdvantages({ stepRewards, stepEnds, stepOffsets, mask, shape: [rows, T], groups, backend, out: o })));
  withMemcpy(b);
  await b.run();
  report('processAdvantages', b);
}
{
  const b = bench();
  for (const backend of backends) b.add(backend, async () => { await dynamicSamplingFilter({ scores, groups, backend }); });
  await b.run();
  const js = median(b, 'js');
  console.log(`${'dynamicSamplingFilter'.padEnd(30)} ` + backends.map((x) => `${x} ${median(b, x).toFixed(3)} ms${x === 'js' ? '' : ` (${(js / median(b, x)).toFixed(1)}× js)`}`).join(' | ') + ` (${rows} rows)`);
}
disposeDefaultContext();
