/**
 * KL estimator bench: klPenalty (verl k3 with both gradients, u8 mask) on js, native and webgpu
 * when available, at 8,192 × 1,024 and 8,192 × 4,096 tokens, beside a memcpy of the same bytes
 * (read logp, ref, mask; write kl and two gradients) measured in the same run. Medians and minimums
 * of wall time, and process CPU time per token (all threads; independent of other load).
 *
 *   node dist/bench/kl.js [--max 8388608] [--backends js,native,webgpu]
 */
import { Bench } from 'tinybench';
import { klPenalty, nativeStatus } from '../lib/index.js';
import { loadNative } from '../lib/backends/native.js';
import { disposeDefaultContext, gpuStatus } from '../lib/backends/webgpu/context.js';

/** Process CPU time (all threads, user + system) of one call in ms: a load-independent figure on a shared machine. */
async function cpuPerCall(fn: () => unknown, calls = 3): Promise<number> {
  await fn();
  const c0 = process.cpuUsage();
  for (let i = 0; i < calls; i++) await fn();
  const c = process.cpuUsage(c0);
  return (c.user + c.system) / 1000 / calls;
}
const arg = (name: string) => { const i = process.argv.indexOf(`--${name}`); return i > 0 ? process.argv[i + 1] : undefined; };
const B = 8192;
const maxTokens = Number(arg('max') ?? 8192 * 4096);
const shapes = [1024, 4096].map((T) => [B, T] as const).filter(([b, t]) => b * t <= maxTokens);
const want = (arg('backends') ?? 'js,native,webgpu').split(',');
const backends: Array<'js' | 'native' | 'webgpu'> = [];
if (want.includes('js')) backends.push('js');
if (want.includes('native')) { if (nativeStatus().available) backends.push('native'); else console.log(`native skipped: ${nativeStatus().reason}`); }
if (want.includes('webgpu')) { const g = await gpuStatus(); if (g.available) backends.push('webgpu'); else console.log(`webgpu skipped: ${g.reason}`); }

for (const [rows, T] of shapes) {
  const n = rows * T;
  const logProbs = new Float32Array(n), refLogProbs = new Float32Array(n), mask = new Uint8Array(n);
  for (let t = 0; t < n; t++) {
    logProbs[t] = -((t * 2654435761) % 1000) / 250;
    refLogProbs[t] = logProbs[t]! + (((t * 40503) % 2001) - 1000) / 4000;
  }
  for (let i = 0; i < rows; i++) mask.fill(1, i * T, i * T + 16 + ((i * 7919) % (T - 16)));
  const bytes = n * (4 + 4 + 1) + n * 12; // read logp, ref, mask; write kl and two gradients
  const bench = new Bench({ time: 0, iterations: 5, warmupIterations: 1, warmupTime: 0 });
  const out = { kl: new Float32Array(n).fill(1), gradLogProbs: new Float32Array(n).fill(1), gradRefLogProbs: new Float32Array(n).fill(1) };
  const fns = new Map<string, () => unknown>();
  for (const backend of backends) {
    fns.set(backend, async () => { await klPenalty({ logProbs, refLogProbs, mask, shape: [rows, T], estimator: 'k3', backend, out }); });
  }
  const src = new Uint8Array(Math.ceil(bytes / 2)), dst = new Uint8Array(src.length);
  src.fill(1);
  dst.fill(2);
  fns.set('memcpy (1 thread)', () => { dst.set(src); });
  if (nativeStatus().available) { const addon = loadNative(); fns.set('memcpy (native, all cores)', async () => { await addon.copy(dst, src); }); }
  for (const [name, fn] of fns) bench.add(name, fn);
  await bench.run();
  const median: Record<string, number> = {}, min: Record<string, number> = {}, cpu: Record<string, number> = {};
  for (const task of bench.tasks) {
    const r = task.result as unknown as { latency?: { p50: number; min: number } };
    if (!r?.latency) continue;
    median[task.name] = r.latency.p50;
    min[task.name] = r.latency.min;
    cpu[task.name] = (await cpuPerCall(fns.get(task.name)!)) * 1e6 / n;
  }
  const copy = Math.min(...['memcpy (1 thread)', 'memcpy (native, all cores)'].map((k) => median[k] ?? Infinity));
  console.log(`${rows} × ${T} (${n} tokens, ${(bytes / 1e6).toFixed(0)} MB moved): ` + Object.entries(median).map(([k, v]) => `${k} ${v.toFixed(2)} ms (min ${min[k]!.toFixed(2)}, cpu ${cpu[k]!.toFixed(2)} ns/token)`).join(' | '));
  const cpuCopy = cpu['memcpy (native, all cores)'];
  if (median['js'] && median['native']) console.log(`  native is ${(median['js'] / median['native']).toFixed(1)}× js and ${(median['native'] / copy).toFixed(2)}× the fastest memcpy` +
    (cpu['native'] && cpuCopy ? ` (CPU time ${(cpu['native'] / cpuCopy).toFixed(2)}× the all-core memcpy's)` : ''));
}
disposeDefaultContext();
