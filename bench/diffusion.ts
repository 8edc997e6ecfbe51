/**
 * `npm run bench:suites -- diffusion`: one Flow-GRPO SDE step with log-prob (f32 latents, mixed per-row step
 * indices) at SD3.5 sizes [24,16,64,64] (512 px) and [24,16,128,128] (1024 px), on every available
 * backend, beside a memcpy of the bytes the step must move (read x, v, ε; write prev and mean), in the
 * same run. Also the step with the counter-hash generator drawing ε (one read fewer, log+cos per element).
 *
 *   npm run bench:suites -- diffusion [--max 6291456] [--backends js,native,webgpu] [--out file.json]
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { Bench } from 'tinybench';
import { diffusionStep, nativeStatus, sd3Sigmas } from '../lib/index.js';
import { loadNative } from '../lib/backends/native.js';
import { disposeDefaultContext, gpuStatus } from '../lib/backends/webgpu/context.js';
import { packageRoot } from '../lib/paths.js';

const arg = (name: string) => { const i = process.argv.indexOf(`--${name}`); return i > 0 ? process.argv[i + 1] : undefined; };
const maxElems = Number(arg('max') ?? 24 * 16 * 128 * 128);
const shapes = [[24, 16, 64, 64], [24, 16, 128, 128]].filter((s) => s.reduce((a, b) => a * b, 1) <= maxElems);

const want = (arg('backends') ?? 'js,native,webgpu').split(',');
const backends: Array<'js' | 'native' | 'webgpu'> = [];
if (want.includes('js')) backends.push('js');
if (want.includes('native')) { if (nativeStatus().available) backends.push('native'); else console.log(`native skipped: ${nativeStatus().reason}`); }
const gpu = await gpuStatus();
if (want.includes('webgpu')) { if (gpu.available) backends.push('webgpu'); else console.log(`webgpu skipped: ${gpu.reason}`); }

interface Row { shape: number[]; task: string; medianMs: number; p99Ms: number; samples: number; gbps: number }
const results: Row[] = [];
const schedule = sd3Sigmas(10);

for (const shape of shapes) {
  const n = shape.reduce((a, b) => a * b, 1), B = shape[0]!;
  const fill = (seed: number) => { const a = new Float32Array(n); for (let i = 0; i < n; i++) a[i] = Math.sin(i * 0.37 + seed); return a; };
  const sample = fill(1), modelOutput = fill(2), noise = fill(3);
  const stepIndex = Array.from({ length: B }, (_, i) => i % 10);
  const bytes = n * 4 * 5; // read x, v, ε; write prev, mean
  const bench = new Bench({ time: 0, iterations: 5, warmupIterations: 1, warmupTime: 0 });
  for (const backend of backends) {
    const out = { prevSample: new Float32Array(n).fill(1), prevSampleMean: new Float32Array(n).fill(1) };
    bench.add(backend, async () => { await diffusionStep({ schedule, modelOutput, sample, shape, stepIndex, noise, backend, out }); });
    bench.add(`${backend} (seeded ε)`, async () => { await diffusionStep({ schedule, modelOutput, sample, shape, stepIndex, seed: 7, backend, out }); });
  }
  const src = new Uint8Array(bytes / 2), dst = new Uint8Array(bytes / 2);
  src.fill(1);
  bench.add('memcpy (1 thread)', () => { dst.set(src); });
  if (nativeStatus().available) { const addon = loadNative(); bench.add('memcpy (native, all cores)', async () => { await addon.copy(dst, src); }); }
  await bench.run();
  for (const task of bench.tasks) {
    const r = task.result as unknown as { latency: { p50: number; p99: number; samplesCount?: number; samples?: number[] } } | undefined;
    if (!r?.latency) { console.log(`${task.name} at ${shape}: failed`, (task.result as { error?: unknown })?.error); continue; }
    results.push({ shape, task: task.name, medianMs: r.latency.p50, p99Ms: r.latency.p99, samples: r.latency.samplesCount ?? r.latency.samples?.length ?? 0, gbps: bytes / r.latency.p50 / 1e6 });
  }
  const js = results.find((x) => x.shape === shape && x.task === 'js');
  console.log(`[${shape}] (${n} elements)\n` + results.filter((x) => x.shape === shape).map((x) =>
    `  ${x.task.padEnd(28)} ${x.medianMs.toFixed(2).padStart(9)} ms  ${x.gbps.toFixed(1).padStart(6)} GB/s${js && x.task !== 'js' && !x.task.startsWith('memcpy') ? `  ${(js.medianMs / x.medianMs).toFixed(1)}× js` : ''}`).join('\n'));
}
disposeDefaultContext();

const out = arg('out') ?? join(packageRoot(), 'bench', 'results', `diffusion-${new Date().toISOString().slice(0, 19).replace(/:/g, '')}.json`);
mkdirSync(dirname(out), { recursive: true });
writeFileSync(out, JSON.stringify({
  op: 'diffusionStep', date: new Date().toISOString(), node: process.version,
  adapter: gpu.adapter ? { vendor: gpu.adapter.vendor, device: gpu.adapter.device, architecture: gpu.adapter.architecture, software: gpu.adapter.software } : null,
  native: nativeStatus().info ?? null, results,
}, null, 2));
console.log(`wrote ${out}`);
