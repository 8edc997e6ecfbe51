/**
 * scoreHeads bench: K MLP heads (SiLU) over pooled hidden states [B, H] — a GEMM of 2·B·H·width·K
 * flops plus a fused epilogue — on every available backend, in GFLOP/s. Prints medians; writes
 * JSON to bench/results/.
 *
 *   node dist/bench/heads.js [--backends js,native,webgpu] [--size B,H,width,K] [--big]
 *                            [--dtype f32|bf16|f16] [--js-rows 32] [--repeat 10] [--peak TFLOP/s]
 *
 * Default: B 4,096, H 4,096, width 1,024, K 4 (137 GFLOP per call). `--big` adds B 16,384, H 8,192,
 * width 4,096, K 4 (4.4 TFLOP; for the GPU machine).
 * - js runs the first `--js-rows` rows only (the full call takes minutes); its GFLOP/s is per row,
 *   so the ratio of rates is the speed-up.
 * - webgpu is measured twice: end to end (uploads of states and weights, readback), and the kernels
 *   alone, as (t(R repetitions in one submission) − t(1))/(R − 1), reported against `--peak`
 *   (the card's f32 FMA peak in TFLOP/s; default 67, the H100 SXM / H200 figure).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { Bench } from 'tinybench';
import { nativeStatus, scoreHeads, type HiddenDtype, type RewardHead } from '../lib/index.js';
import { prepareHeads } from '../lib/scoring/heads.js';
import { headsWebgpu } from '../lib/scoring/heads.gpu.js';
import { disposeDefaultContext, getContext, gpuStatus } from '../lib/backends/webgpu/context.js';
import { packageRoot } from '../lib/paths.js';

const arg = (name: string) => { const i = process.argv.indexOf(`--${name}`); return i > 0 ? process.argv[i + 1] : undefined; };
const dtype = (arg('dtype') ?? 'f32') as HiddenDtype;
const jsRows = Number(arg('js-rows') ?? 32);
const repeat = Math.max(2, Number(arg('repeat') ?? 10));
const peak = Number(arg('peak') ?? 67);
const sizes: Array<[number, number, number, number]> = arg('size')
  ? [arg('size')!.split(',').map(Number) as [number, number, number, number]]
  : [[4096, 4096, 1024, 4], ...(process.argv.includes('--big') ? [[16384, 8192, 4096, 4] as [number, number, number, number]] : [])];

const want = (arg('backends') ?? 'js,native,webgpu').split(',');
const backends: Array<'js' | 'native' | 'webgpu'> = [];
if (want.includes('js')) backends.push('js');
if (want.includes('native')) { if (nativeStatus().available) backends.push('native'); else console.log(`native skipped: ${nativeStatus().reason}`); }
const gpu = await gpuStatus();
if (want.includes('webgpu')) { if (gpu.available) backends.push('webgpu'); else console.log(`webgpu skipped: ${gpu.reason}`); }
if (gpu.adapter) console.log(`adapter: ${gpu.adapter.vendor} ${gpu.adapter.device} ${gpu.adapter.software ? '(software)' : ''}`);

interface Row { B: number; H: number; width: number; K: number; dtype: string; task: string; rows: number; medianMs: number; gflops: number }
const results: Row[] = [];

let seed = 12345;
const rand = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32) - 0.5;
const floats = (n: number, scale: number) => { const x = new Float32Array(n); for (let i = 0; i < n; i++) x[i] = rand() * scale; return x; };

for (const [B, H, width, K] of sizes) {
  const values = floats(B * H, 2);
  let hidden: Float32Array | Uint16Array = values;
  if (dtype !== 'f32') {
    // bf16: the top half of each f32; f16: a value in ±1 with a random mantissa (exact, normal).
    const u = new Uint32Array(values.buffer), b = new Uint16Array(B * H);
    for (let i = 0; i < b.length; i++) b[i] = dtype === 'bf16' ? u[i]! >>> 16 : 0x3800 | (u[i]! & 0x83ff);
    hidden = b;
  }
  const heads: RewardHead[] = Array.from({ length: K }, () => ({ kind: 'mlp', w1: floats(width * H, 2 / Math.sqrt(H)), b1: floats(width, 0.1), w2: floats(width, 2 / Math.sqrt(width)), activation: 'silu' }));
  const flops = (rows: number) => 2 * rows * H * width * K;
  const heavy = flops(B) > 5e11;
  const bench = new Bench({ time: 0, iterations: heavy ? 3 : 5, warmupIterations: 1, warmupTime: 0 });
  const rowsOf: Record<string, number> = {};
  for (const backend of backends) {
    const rows = backend === 'js' ? Math.min(jsRows, B) : B;
    rowsOf[backend] = rows;
    const h = hidden.subarray(0, rows * H);
    const out = new Float32Array(K * rows);
    bench.add(backend, async () => { await scoreHeads({ hidden: h, dtype, shape: [rows, H], heads, backend, out }); });
  }
  if (backends.includes('webgpu')) {
    const p = prepareHeads({ hidden, dtype, shape: [B, H], heads });
    const ctx = await getContext();
    rowsOf['webgpu kernels ×1'] = B;
    rowsOf[`webgpu kernels ×${repeat}`] = B;
    bench.add('webgpu kernels ×1', async () => { await headsWebgpu(p, ctx, 1); });
    bench.add(`webgpu kernels ×${repeat}`, async () => { await headsWebgpu(p, ctx, repeat); });
  }
  await bench.run();
  for (const task of bench.tasks) {
    const r = task.result as unknown as { latency?: { p50: number } } | undefined;
    if (!r?.latency) { console.log(`${task.name}: failed`, (task.result as { error?: unknown })?.error); continue; }
    const rows = rowsOf[task.name]!;
    results.push({ B, H, width, K, dtype, task: task.name, rows, medianMs: r.latency.p50, gflops: flops(rows) / r.latency.p50 / 1e6 });
  }
  const mine = results.filter((x) => x.B === B && x.H === H && x.width === width && x.K === K);
  const js = mine.find((x) => x.task === 'js');
  console.log(`B ${B} × H ${H}, ${K} heads of width ${width}, ${dtype} (${(flops(B) / 1e9).toFixed(1)} GFLOP per call):`);
  for (const x of mine) {
    if (x.task.startsWith('webgpu kernels')) continue;
    const vsJs = js && x !== js ? `, ${(x.gflops / js.gflops).toFixed(1)}× js` : '';
    console.log(`  ${x.task.padEnd(8)} ${x.medianMs.toFixed(1).padStart(10)} ms for ${x.rows} rows  ${x.gflops.toFixed(2).padStart(9)} GFLOP/s${vsJs}`);
  }
  const one = mine.find((x) => x.task === 'webgpu kernels ×1'), many = mine.find((x) => x.task === `webgpu kernels ×${repeat}`);
  if (one && many) {
    const ms = (many.medianMs - one.medianMs) / (repeat - 1);
    const tflops = flops(B) / ms / 1e9;
    console.log(`  webgpu kernels alone ${ms.toFixed(3).padStart(8)} ms  ${(tflops * 1e3).toFixed(1)} GFLOP/s = ${((100 * tflops) / peak).toFixed(1)}% of a ${peak} TFLOP/s f32 peak`);
    results.push({ B, H, width, K, dtype, task: 'webgpu kernels alone', rows: B, medianMs: ms, gflops: tflops * 1e3 });
  }
}
disposeDefaultContext();

const file = arg('out') ?? join(packageRoot(), 'bench', 'results', `heads-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
mkdirSync(dirname(file), { recursive: true });
writeFileSync(file, JSON.stringify({ adapter: gpu.adapter ?? null, results }, null, 2));
console.log(`wrote ${file}`);
