/**
 * `npm run bench:suites -- diffusion-loss`: the two batched diffusion-loss kernels on every available backend,
 * beside a memcpy moving the same bytes, measured in the same run.
 * - latentKl: Flow-GRPO's latent KL (two f32 latent tensors read, one value per row) for
 *   [24, 16·64·64] (SD3.5 512 px, group 24), [24, 16·128·128] (1024 px) and 8,192 × 1,024.
 * - clipped term (flowGrpoLoss's per-element part) over 8,192 × 1,024 elements (far beyond real
 *   B·steps: it shows the kernel's bandwidth, not a realistic call).
 *
 *   npm run bench:suites -- diffusion-loss [--max 8388608] [--backends js,native,webgpu] [--out file.json]
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { Bench } from 'tinybench';
import { latentKl, nativeStatus } from '../lib/index.js';
import { diffusionClipProblem } from '../lib/diffusion/loss.js';
import { clipRowsJs } from '../lib/diffusion/loss.ref.js';
import { clipRowsNative } from '../lib/diffusion/loss.native.js';
import { clipRowsWebgpu } from '../lib/diffusion/loss.gpu.js';
import { loadNative } from '../lib/backends/native.js';
import { disposeDefaultContext, gpuStatus } from '../lib/backends/webgpu/context.js';
import { packageRoot } from '../lib/paths.js';

const arg = (name: string) => { const i = process.argv.indexOf(`--${name}`); return i > 0 ? process.argv[i + 1] : undefined; };
const max = Number(arg('max') ?? 8 << 20);
const want = (arg('backends') ?? 'js,native,webgpu').split(',');
const backends: Array<'js' | 'native' | 'webgpu'> = [];
if (want.includes('js')) backends.push('js');
if (want.includes('native') && nativeStatus().available) backends.push('native');
const gpu = await gpuStatus();
if (want.includes('webgpu') && gpu.available) backends.push('webgpu');

interface Row { case: string; elements: number; task: string; medianMs: number; gbps: number }
const results: Row[] = [];

async function measure(name: string, elements: number, bytes: number, tasks: Record<string, () => unknown>): Promise<void> {
  const big = elements >= 4 << 20;
  const bench = new Bench({ time: big ? 0 : 300, iterations: big ? 5 : 10, warmupIterations: big ? 1 : 3, warmupTime: 0 });
  for (const [k, fn] of Object.entries(tasks)) bench.add(k, fn as () => Promise<void>);
  const src = new Uint8Array(Math.ceil(bytes / 2)).fill(1), dst = new Uint8Array(src.length);
  bench.add('memcpy (1 thread)', () => { dst.set(src); });
  if (nativeStatus().available) { const addon = loadNative(); bench.add('memcpy (native, all cores)', async () => { await addon.copy(dst, src); }); }
  await bench.run();
  const line: string[] = [];
  for (const t of bench.tasks) {
    const r = t.result as unknown as { latency?: { p50: number } };
    if (!r?.latency) continue;
    results.push({ case: name, elements, task: t.name, medianMs: r.latency.p50, gbps: bytes / r.latency.p50 / 1e6 });
    line.push(`${t.name} ${r.latency.p50.toFixed(3)} ms (${(bytes / r.latency.p50 / 1e6).toFixed(1)} GB/s)`);
  }
  console.log(`${name.padEnd(28)} ${line.join(' | ')}`);
}

for (const [rows, cols] of [[24, 16 * 64 * 64], [24, 16 * 128 * 128], [8192, 1024]] as const) {
  if (rows * cols > max) continue;
  const mean = new Float32Array(rows * cols).map((_, i) => Math.sin(i)), meanRef = mean.map((x) => x + 0.01);
  const std = new Float32Array(rows).fill(0.5);
  const tasks: Record<string, () => unknown> = {};
  for (const b of backends) tasks[b] = () => latentKl({ mean, meanRef, rows, std, backend: b });
  await measure(`latentKl ${rows}x${cols}`, rows * cols, rows * cols * 8, tasks);
}
{
  const n = Math.min(max, 8 << 20);
  const lp = new Float32Array(n).map((_, i) => -2 + Math.sin(i)), old = lp.map((x, i) => x + 1e-3 * Math.cos(i)), adv = lp.map((_, i) => Math.sin(3 * i) * 3);
  const p = diffusionClipProblem({ logProb: lp, oldLogProb: old, advantages: adv });
  const tasks: Record<string, () => unknown> = {};
  if (backends.includes('js')) tasks['js'] = () => clipRowsJs(p);
  if (backends.includes('native')) tasks['native'] = () => clipRowsNative(p);
  if (backends.includes('webgpu')) tasks['webgpu'] = () => clipRowsWebgpu(p);
  await measure(`clipped term ${n}`, n, n * 24, tasks); // read 3 f32, write 3 f32
}
disposeDefaultContext();
const out = arg('out') ?? join(packageRoot(), 'bench', 'results', `diffusion-${new Date().toISOString().slice(0, 19).replace(/:/g, '')}.json`);
mkdirSync(dirname(out), { recursive: true });
writeFileSync(out, JSON.stringify({ op: 'diffusion losses', date: new Date().toISOString(), node: process.version, native: nativeStatus().info ?? null, results }, null, 2));
console.log(`wrote ${out}`);
