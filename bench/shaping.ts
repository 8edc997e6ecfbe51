/**
 * `npm run bench:suites -- shaping`: the scoring ops at B rows (default 1,048,576), K = 4 ensemble members,
 * M = 10 references, ~16 PRM steps per response, on js and native (and webgpu with --webgpu), beside
 * a memcpy of the same bytes measured in the same run. Prints medians; writes JSON to bench/results/.
 *
 *   npm run bench:suites -- shaping [--max 1048576] [--webgpu] [--out file.json]
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { Bench } from 'tinybench';
import { aggregateEnsemble, aggregateSteps, clipDelta, nativeStatus, RunningStats, shapeRewards } from '../lib/index.js';
import { loadNative } from '../lib/backends/native.js';
import { disposeDefaultContext, gpuStatus } from '../lib/backends/webgpu/context.js';
import { packageRoot } from '../lib/paths.js';

const arg = (name: string) => { const i = process.argv.indexOf(`--${name}`); return i > 0 ? process.argv[i + 1] : undefined; };
const B = Number(arg('max') ?? 1 << 20), K = 4, M = 10, L = 16;
const backends: Array<'js' | 'native' | 'webgpu'> = ['js'];
if (nativeStatus().available) backends.push('native'); else console.log(`native skipped: ${nativeStatus().reason}`);
if (process.argv.includes('--webgpu') && (await gpuStatus()).available) backends.push('webgpu');

let seed = 1;
const rnd = () => { seed = (seed * 1103515245 + 12345) >>> 0; return seed / 2 ** 32; };
const ens = Float32Array.from({ length: K * B }, () => rnd() * 4 - 2);
const rewards = Float32Array.from({ length: B }, () => rnd() * 4 - 2);
const refs = Float32Array.from({ length: B * M }, () => rnd() * 2 - 1);
const lengths = Uint32Array.from({ length: B }, () => Math.floor(rnd() * 600));
const stepOffsets = Uint32Array.from({ length: B + 1 }, (_, i) => i * L);
const steps = Float32Array.from({ length: B * L }, () => 0.05 + 0.9 * rnd());

const ops: Array<{ name: string; bytes: number; run: (backend: 'js' | 'native' | 'webgpu') => Promise<unknown> }> = [];
const outB = new Float32Array(B), outN = new Float32Array(B * L);
ops.push({ name: 'ensemble median', bytes: (K + 1) * B * 4, run: (backend) => aggregateEnsemble({ scores: ens, shape: [K, B], method: 'median', backend, out: outB }) });
ops.push({ name: 'ensemble uwo', bytes: (K + 1) * B * 4, run: (backend) => aggregateEnsemble({ scores: ens, shape: [K, B], preset: 'coste-ppo', backend, out: outB }) });
ops.push({ name: 'PAR (relative sigmoid, M=10, length penalty)', bytes: (M + 3) * B * 4, run: (backend) => shapeRewards({ rewards, references: refs, referenceCount: M, lengths, options: { par: true }, backend, out: outB }) });
ops.push({ name: 'meanstd + clipping (running stats)', bytes: 2 * B * 4, run: (backend) => shapeRewards({ rewards, options: { meanstd: true, clipping: true }, stats: new RunningStats(), backend, out: outB }) });
ops.push({ name: 'PRM min over 16 steps', bytes: (L + 2) * B * 4, run: (backend) => aggregateSteps({ stepScores: steps, stepOffsets, method: 'min', backend, out: outB }) });
ops.push({ name: 'Clip + Delta', bytes: (2 * L + 1) * B * 4, run: (backend) => clipDelta({ stepScores: steps, stepOffsets, backend, out: outN }) });

interface Row { op: string; task: string; medianMs: number; gbps: number }
const results: Row[] = [];
for (const op of ops) {
  const bench = new Bench({ time: 0, iterations: 5, warmupIterations: 1, warmupTime: 0 });
  for (const backend of backends) bench.add(backend, async () => { await op.run(backend); });
  const src = new Uint8Array(Math.ceil(op.bytes / 2)).fill(1), dst = new Uint8Array(src.length);
  if (nativeStatus().available) { const addon = loadNative(); bench.add('memcpy (native, all cores)', async () => { await addon.copy(dst, src); }); }
  else bench.add('memcpy (1 thread)', () => { dst.set(src); });
  await bench.run();
  for (const task of bench.tasks) {
    const r = task.result as unknown as { latency?: { p50: number } };
    if (!r?.latency) { console.log(`${op.name} ${task.name}: failed`); continue; }
    results.push({ op: op.name, task: task.name, medianMs: r.latency.p50, gbps: op.bytes / r.latency.p50 / 1e6 });
  }
  const get = (t: string) => results.find((x) => x.op === op.name && x.task === t)?.medianMs;
  const js = get('js'), nat = get('native'), copy = get('memcpy (native, all cores)') ?? get('memcpy (1 thread)');
  console.log(`${op.name.padEnd(46)} ` + results.filter((x) => x.op === op.name).map((x) => `${x.task} ${x.medianMs.toFixed(2)} ms`).join(' | ')
    + (js && nat ? ` | native ${(js / nat).toFixed(1)}× js` : '') + (nat && copy ? `, ${(nat / copy).toFixed(1)}× memcpy` : ''));
}
disposeDefaultContext();
const out = arg('out') ?? join(packageRoot(), 'bench', 'results', `shaping-${new Date().toISOString().slice(0, 19).replace(/:/g, '')}.json`);
mkdirSync(dirname(out), { recursive: true });
writeFileSync(out, JSON.stringify({ rows: B, K, M, L, results }, null, 2));
console.log(`\nwrote ${out}`);
