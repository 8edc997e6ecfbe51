/**
 * tokenLogProbs bench: log-probs of labels + entropies for N × V logits (f32 and bf16) on every
 * available backend, beside a memcpy of the logits' bytes (the bandwidth floor: the op must read
 * them once), measured in the same run. Prints medians; writes JSON to bench/results/.
 *
 *   node dist/bench/logits.js [--backends js,native,webgpu] [--max N·V] [--big] [--out file.json]
 *
 * Default: 512 × 32,000. `--big` adds 4,096 × 151,936 bf16 (a Qwen-sized vocabulary; for the GPU
 * machine). `--max` drops sizes above that many logits.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { Bench } from 'tinybench';
import { nativeStatus, tokenLogProbs } from '../lib/index.js';
import { loadNative } from '../lib/backends/native.js';
import { disposeDefaultContext, gpuStatus } from '../lib/backends/webgpu/context.js';
import { packageRoot } from '../lib/paths.js';

/** Process CPU time (all threads, user + system) of one call in ms: a load-independent figure on a shared machine. */
async function cpuPerCall(fn: () => unknown, calls = 3): Promise<number> {
  await fn();
  const c0 = process.cpuUsage();
  for (let i = 0; i < calls; i++) await fn();
  const c = process.cpuUsage(c0);
  return (c.user + c.system) / 1000 / calls;
}
const arg = (name: string) => { const i = process.argv.indexOf(`--${name}`); return i > 0 ? process.argv[i + 1] : undefined; };
const max = Number(arg('max') ?? Infinity);
const cases: Array<{ N: number; V: number; dtype: "f32" | "bf16" }> = [
  { N: 512, V: 32000, dtype: 'f32' as const },
  { N: 512, V: 32000, dtype: 'bf16' as const },
  ...(process.argv.includes('--big') ? [{ N: 4096, V: 151936, dtype: 'bf16' as const }] : []),
].filter((c) => c.N * c.V <= max);

const want = (arg('backends') ?? 'js,native,webgpu').split(',');
const backends: Array<'js' | 'native' | 'webgpu'> = [];
if (want.includes('js')) backends.push('js');
if (want.includes('native')) { if (nativeStatus().available) backends.push('native'); else console.log(`native skipped: ${nativeStatus().reason}`); }
const gpu = await gpuStatus();
if (want.includes('webgpu')) { if (gpu.available) backends.push('webgpu'); else console.log(`webgpu skipped: ${gpu.reason}`); }
if (gpu.adapter) console.log(`adapter: ${gpu.adapter.vendor} ${gpu.adapter.device} ${gpu.adapter.software ? '(software)' : ''}`);

interface Row { N: number; V: number; dtype: string; task: string; medianMs: number; minMs: number; cpuNsPerLogit: number; p99Ms: number; samples: number; gbps: number }
const results: Row[] = [];

for (const { N, V, dtype } of cases) {
  const n = N * V;
  // Logits of a trained model's shape: mostly small, a few large; labels anywhere.
  const f32 = new Float32Array(n);
  let seed = 12345;
  const rand = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32);
  for (let i = 0; i < n; i++) f32[i] = (rand() - 0.5) * 8 + (rand() < 0.001 ? 12 : 0);
  let logits: Float32Array | Uint16Array = f32;
  if (dtype === 'bf16') {
    const u = new Uint32Array(f32.buffer), b = new Uint16Array(n);
    for (let i = 0; i < n; i++) b[i] = u[i]! >>> 16;
    logits = b;
  }
  const labels = Int32Array.from({ length: N }, () => Math.floor(rand() * V));
  const bytes = logits.byteLength;
  const heavy = n > 64e6;
  const bench = new Bench({ time: heavy ? 0 : 500, iterations: heavy ? 5 : 10, warmupIterations: heavy ? 1 : 2, warmupTime: 0 });
  const fns = new Map<string, () => unknown>();
  for (const backend of backends) {
    if (backend === 'js' && heavy) continue; // seconds per call: not informative
    const out = { logProbs: new Float32Array(N), entropy: new Float32Array(N) };
    fns.set(backend, async () => { await tokenLogProbs({ logits, shape: [N, V], labels, backend, out }); });
  }
  const dst = new Uint8Array(bytes), src = new Uint8Array(logits.buffer, logits.byteOffset, bytes);
  fns.set('memcpy (1 thread)', () => { dst.set(src); });
  if (nativeStatus().available) { const addon = loadNative(); fns.set('memcpy (native, all cores)', async () => { await addon.copy(dst, src); }); }
  for (const [name, fn] of fns) bench.add(name, fn);
  await bench.run();
  for (const task of bench.tasks) {
    const r = task.result as unknown as { latency: { p50: number; min: number; p99: number; samplesCount?: number; samples?: number[] } } | undefined;
    if (!r?.latency) { console.log(`${task.name} ${N}x${V} ${dtype}: failed`, (task.result as { error?: unknown })?.error); continue; }
    const cpuNsPerLogit = (await cpuPerCall(fns.get(task.name)!)) * 1e6 / n;
    results.push({ N, V, dtype, task: task.name, medianMs: r.latency.p50, minMs: r.latency.min, cpuNsPerLogit, p99Ms: r.latency.p99, samples: r.latency.samplesCount ?? r.latency.samples?.length ?? 0, gbps: bytes / r.latency.p50 / 1e6 });
  }
  const mine = results.filter((x) => x.N === N && x.V === V && x.dtype === dtype);
  const js = mine.find((x) => x.task === 'js');
  const copy = Math.min(...mine.filter((x) => x.task.startsWith('memcpy')).map((x) => x.medianMs));
  console.log(`${N} × ${V} ${dtype} (${(bytes / 2 ** 20).toFixed(0)} MiB):`);
  for (const x of mine) {
    const vsJs = js && x !== js && !x.task.startsWith('memcpy') ? `, ${(js.medianMs / x.medianMs).toFixed(1)}× js` : '';
    const vsCopy = x.task.startsWith('memcpy') ? '' : `, ${(x.medianMs / copy).toFixed(2)}× memcpy`;
    console.log(`  ${x.task.padEnd(26)} ${x.medianMs.toFixed(3).padStart(9)} ms  (min ${x.minMs.toFixed(3)}, cpu ${x.cpuNsPerLogit.toFixed(3)} ns/logit, ${x.gbps.toFixed(1)} GB/s of logits${vsJs}${vsCopy})`);
  }
}
disposeDefaultContext();

const out = arg('out') ?? join(packageRoot(), 'bench', 'results', `logits-${new Date().toISOString().slice(0, 19).replace(/:/g, '')}.json`);
mkdirSync(dirname(out), { recursive: true });
writeFileSync(out, JSON.stringify({
  op: 'tokenLogProbs', date: new Date().toISOString(), node: process.version,
  adapter: gpu.adapter ? { vendor: gpu.adapter.vendor, device: gpu.adapter.device, architecture: gpu.adapter.architecture, software: gpu.adapter.software } : null,
  native: nativeStatus().info ?? null, results,
}, null, 2));
console.log(`wrote ${out}`);
