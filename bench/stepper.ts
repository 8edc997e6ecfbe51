/**
 * `npm run bench:suites -- stepper`: a whole sampling loop (runTrajectories) on the analytic Gaussian flow
 * at SD3.5's 512 px latent size, 8 prompts × 3 samples × [16, 64, 64] = [24, 16, 64, 64], 10 SDE
 * steps, with final rewards and with the x̂0 dense rewards, on every available backend. The model and
 * the reward run in JS on the host (as a user's would), so the figures include their cost: the
 * model's time alone (10 velocity calls) is measured in the same run.
 *
 *   npm run bench:suites -- stepper [--backends js,native,webgpu] [--steps 10] [--out file.json]
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { Bench } from 'tinybench';
import { gaussianFlow, nativeStatus, runTrajectories, sd3Sigmas } from '../lib/index.js';
import { disposeDefaultContext, gpuStatus } from '../lib/backends/webgpu/context.js';
import { packageRoot } from '../lib/paths.js';

const arg = (name: string) => { const i = process.argv.indexOf(`--${name}`); return i > 0 ? process.argv[i + 1] : undefined; };
const steps = Number(arg('steps') ?? 10);
const want = (arg('backends') ?? 'js,native,webgpu').split(',');
const backends: Array<'js' | 'native' | 'webgpu'> = [];
if (want.includes('js')) backends.push('js');
if (want.includes('native')) { if (nativeStatus().available) backends.push('native'); else console.log(`native skipped: ${nativeStatus().reason}`); }
const gpu = await gpuStatus();
if (want.includes('webgpu')) { if (gpu.available) backends.push('webgpu'); else console.log(`webgpu skipped: ${gpu.reason}`); }

const prompts = Array.from({ length: 8 }, (_, i) => `prompt ${i}`);
const flow = gaussianFlow({ means: prompts.map((_, i) => (i - 4) / 4), std: 0.5 });
const shape = [16, 64, 64], B = 24, n = 16 * 64 * 64;
const base = { prompts, samplesPerPrompt: 3, steps, shape, model: flow, reward: flow.reward, seed: 1 };

const bench = new Bench({ time: 0, iterations: 3, warmupIterations: 1, warmupTime: 0 });
const x = new Float32Array(B * n).fill(0.3), promptIdx = new Uint32Array(B).map((_, r) => Math.floor(r / 3));
const sig = sd3Sigmas(steps).sigmas;
bench.add('model alone (N velocity calls, JS)', () => { for (let i = 0; i < steps; i++) flow.velocity(x, { sigma: sig[i]!, promptIdx }); });
for (const backend of backends) {
  bench.add(backend, async () => { await runTrajectories({ ...base, backend }); });
  bench.add(`${backend} + dense x̂0`, async () => { await runTrajectories({ ...base, backend, dense: 'x0' }); });
}
await bench.run();
const results = bench.tasks.map((task) => {
  const r = task.result as unknown as { latency?: { p50: number; p99: number } };
  return { task: task.name, medianMs: r.latency?.p50 ?? NaN, p99Ms: r.latency?.p99 ?? NaN };
});
const js = results.find((r) => r.task === 'js');
console.log(`[24,16,64,64], ${steps} SDE steps\n` + results.map((r) =>
  `  ${r.task.padEnd(36)} ${r.medianMs.toFixed(1).padStart(9)} ms${js && r !== js && !r.task.startsWith('model') && !r.task.includes('dense') ? `  ${(js.medianMs / r.medianMs).toFixed(1)}× js` : ''}`).join('\n'));
disposeDefaultContext();

const out = arg('out') ?? join(packageRoot(), 'bench', 'results', `stepper-${new Date().toISOString().slice(0, 19).replace(/:/g, '')}.json`);
mkdirSync(dirname(out), { recursive: true });
writeFileSync(out, JSON.stringify({ op: 'runTrajectories', date: new Date().toISOString(), node: process.version, steps, adapter: gpu.adapter ? { device: gpu.adapter.device, software: gpu.adapter.software } : null, results }, null, 2));
console.log(`wrote ${out}`);
