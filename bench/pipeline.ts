/**
 * scorePipeline bench: the fused call (one GpuPlan: heads → ensemble → shaping → GRPO, one readback)
 * against the same stages called one by one (scoreHeads → aggregateEnsemble → shapeRewards →
 * grpoAdvantages: an upload and a readback per stage), on each available backend. Prints medians;
 * writes JSON to bench/results/.
 *
 *   node dist/bench/pipeline.js [--backends native,webgpu] [--size B,H,width,K,T] [--big]
 *
 * Default: B 1,024 rows, H 1,024, K 4 MLP heads of width 256, advantages over T 1,024 tokens per row
 * (1M tokens), groups of 8, shaping with tanh and a length penalty. `--big` adds B 8,192, H 4,096,
 * width 1,024, T 1,024 (8M tokens; for the GPU machine).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { Bench } from 'tinybench';
import {
  aggregateEnsemble, grpoAdvantages, nativeStatus, scoreHeads, scorePipeline, shapeRewards, type RewardHead, type ScorePipelineOptions,
} from '../lib/index.js';
import { disposeDefaultContext, gpuStatus } from '../lib/backends/webgpu/context.js';
import { packageRoot } from '../lib/paths.js';

const arg = (name: string) => { const i = process.argv.indexOf(`--${name}`); return i > 0 ? process.argv[i + 1] : undefined; };
type Size = [B: number, H: number, width: number, K: number, T: number];
const sizes: Size[] = arg('size')
  ? [arg('size')!.split(',').map(Number) as Size]
  : [[1024, 1024, 256, 4, 1024], ...(process.argv.includes('--big') ? [[8192, 4096, 1024, 4, 1024] as Size] : [])];
const want = (arg('backends') ?? 'native,webgpu').split(',');
const backends: Array<'js' | 'native' | 'webgpu'> = [];
if (want.includes('js')) backends.push('js');
if (want.includes('native')) { if (nativeStatus().available) backends.push('native'); else console.log(`native skipped: ${nativeStatus().reason}`); }
const gpu = await gpuStatus();
if (want.includes('webgpu')) { if (gpu.available) backends.push('webgpu'); else console.log(`webgpu skipped: ${gpu.reason}`); }
if (gpu.adapter) console.log(`adapter: ${gpu.adapter.vendor} ${gpu.adapter.device} ${gpu.adapter.software ? '(software)' : ''}`);

let seed = 12345;
const rand = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32) - 0.5;
const floats = (n: number, scale: number) => { const x = new Float32Array(n); for (let i = 0; i < n; i++) x[i] = rand() * scale; return x; };

interface Row { B: number; H: number; width: number; K: number; T: number; backend: string; task: string; medianMs: number }
const results: Row[] = [];

for (const [B, H, width, K, T] of sizes) {
  const heads: RewardHead[] = Array.from({ length: K }, () => ({ kind: 'mlp', w1: floats(width * H, 2 / Math.sqrt(H)), w2: floats(width, 2 / Math.sqrt(width)), activation: 'silu' }));
  const mask = new Uint8Array(B * T);
  for (let b = 0; b < B; b++) mask.fill(1, b * T, b * T + 1 + Math.floor((rand() + 0.5) * (T - 1)));
  const o: ScorePipelineOptions = {
    hidden: floats(B * H, 2), shape: [B, H], heads,
    ensemble: { method: 'uwo', c: 0.5 },
    shaping: { lengths: Array.from({ length: B }, () => Math.floor((rand() + 0.5) * 600)), options: { tanh: true } },
    advantages: { groups: { size: 8 }, mask, shape: [B, T] },
  };
  const bench = new Bench({ time: 0, iterations: 5, warmupIterations: 1, warmupTime: 0 });
  for (const backend of backends) {
    bench.add(`${backend} fused`, async () => { await scorePipeline({ ...o, backend }); });
    bench.add(`${backend} stage by stage`, async () => {
      const h = await scoreHeads({ hidden: o.hidden, shape: o.shape, heads, backend });
      const e = await aggregateEnsemble({ ...o.ensemble, scores: h.scores, shape: [K, B], backend });
      const s = await shapeRewards({ ...o.shaping, rewards: e.scores, backend });
      await grpoAdvantages({ ...o.advantages!, scores: s.rewards, scoreLevel: 'row', backend });
    });
  }
  await bench.run();
  console.log(`B ${B} × H ${H}, ${K} heads of width ${width}, ${B * T} tokens of advantages:`);
  for (const task of bench.tasks) {
    const r = task.result as unknown as { latency?: { p50: number } } | undefined;
    if (!r?.latency) { console.log(`${task.name}: failed`, (task.result as { error?: unknown })?.error); continue; }
    const [backend, ...rest] = task.name.split(' ');
    results.push({ B, H, width, K, T, backend: backend!, task: rest.join(' '), medianMs: r.latency.p50 });
    console.log(`  ${task.name.padEnd(24)} ${r.latency.p50.toFixed(1).padStart(10)} ms`);
  }
}
disposeDefaultContext();

const file = arg('out') ?? join(packageRoot(), 'bench', 'results', `pipeline-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
mkdirSync(dirname(file), { recursive: true });
writeFileSync(file, JSON.stringify({ adapter: gpu.adapter ?? null, results }, null, 2));
console.log(`wrote ${file}`);
