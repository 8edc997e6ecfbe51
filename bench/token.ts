/**
 * Token estimators and masked whitening: GAE (verl), REINFORCE++ and maskedWhiten on every
 * available backend at 8,192 rows × 1,024 tokens (8M tokens; smaller with --max), beside a memcpy
 * of the same bytes measured in the same run. Prints, per task, the median and minimum wall time
 * and the process CPU time per token (process.cpuUsage: every thread of the process, so it also
 * counts the native worker threads; on a loaded machine it moves far less than the wall time).
 *
 *   node dist/bench/token.js [--max 1048576] [--backends js,native,webgpu] [--iterations 5] [--only gae,maskedWhiten]
 */
import { Bench } from 'tinybench';
import { gae, maskedWhiten, nativeStatus, reinforcePlusPlus } from '../lib/index.js';
import { loadNative } from '../lib/backends/native.js';
import { disposeDefaultContext, gpuStatus } from '../lib/backends/webgpu/context.js';

const arg = (name: string) => { const i = process.argv.indexOf(`--${name}`); return i > 0 ? process.argv[i + 1] : undefined; };
const T = 1024;
const tokens = Math.min(Number(arg('max') ?? 8192 * T), 8192 * T);
const rows = Math.max(1, Math.floor(tokens / T)), N = rows * T;
const want = (arg('backends') ?? 'js,native').split(',');
const only = arg('only')?.split(',');
const backends: Array<'js' | 'native' | 'webgpu'> = [];
if (want.includes('js')) backends.push('js');
if (want.includes('native')) { if (nativeStatus().available) backends.push('native'); else console.log(`native skipped: ${nativeStatus().reason}`); }
if (want.includes('webgpu')) { const g = await gpuStatus(); if (g.available) backends.push('webgpu'); else console.log(`webgpu skipped: ${g.reason}`); }

const mask = new Uint8Array(N), rewards = new Float32Array(N), values = new Float32Array(N);
for (let i = 0; i < rows; i++) {
  const len = 16 + ((i * 7919) % (T - 16));
  mask.fill(1, i * T, i * T + len);
  rewards[i * T + len - 1] = (i * 2654435761) % 7 < 3 ? 1 : 0;
  for (let t = i * T; t < i * T + len; t++) values[t] = ((t * 40503) % 1000) / 1000 - 0.5;
}
const out = { advantages: new Float32Array(N).fill(1), returns: new Float32Array(N).fill(1) };
const whitened = new Float32Array(N).fill(1);
// Bytes each op must move at least: GAE reads R, V, M and writes adv, ret; REINFORCE++ reads R, M
// and writes adv, ret; the whitening reads v, M and writes out.
const tasks = {
  gae: { bytes: N * (4 + 4 + 1 + 4 + 4), run: (backend: 'js' | 'native' | 'webgpu') => gae({ rewards, values, mask, shape: [rows, T], backend, out }) },
  'reinforce++': { bytes: N * (4 + 1 + 4 + 4), run: (backend: 'js' | 'native' | 'webgpu') => reinforcePlusPlus({ rewards, mask, shape: [rows, T], backend, out }) },
  maskedWhiten: { bytes: N * (4 + 1 + 4), run: (backend: 'js' | 'native' | 'webgpu') => maskedWhiten({ values, mask, shape: [rows, T], backend, out: whitened }) },
};

/** fn, also summing the process CPU time (µs) it takes over all its calls. */
function cpuTimed(fn: () => Promise<unknown>) {
  const acc = { us: 0, calls: 0 };
  return { acc, fn: async () => { const c0 = process.cpuUsage(); await fn(); const c = process.cpuUsage(c0); acc.us += c.user + c.system; acc.calls++; } };
}

const MEMCPY = 'memcpy (native, all cores)';
const iterations = Number(arg('iterations') ?? (N >= 4 << 20 ? 5 : 20));
console.log(`${rows} rows × ${T} tokens = ${N} tokens; backends ${backends.join(', ')}; ${iterations} iterations`);
console.log('per task: median / min wall ms, CPU ns per token; ratios on medians (min ratios in brackets)');
for (const [name, task] of Object.entries(tasks)) {
  if (only && !only.includes(name)) continue;
  const bench = new Bench({ time: 0, iterations, warmupIterations: 1, warmupTime: 0 });
  const cpu: Record<string, { us: number; calls: number }> = {};
  for (const backend of backends) { const t = cpuTimed(() => task.run(backend)); cpu[backend] = t.acc; bench.add(backend, t.fn); }
  const src = new Uint8Array(Math.ceil(task.bytes / 2)), dst = new Uint8Array(src.length);
  src.fill(1);
  dst.fill(1);
  if (nativeStatus().available) { const addon = loadNative(); const t = cpuTimed(() => addon.copy(dst, src)); cpu[MEMCPY] = t.acc; bench.add(MEMCPY, t.fn); }
  await bench.run();
  const med: Record<string, number> = {}, min: Record<string, number> = {};
  for (const t of bench.tasks) {
    const l = (t.result as unknown as { latency: { p50: number; min: number } }).latency;
    med[t.name] = l.p50;
    min[t.name] = l.min;
  }
  const js = med['js'], copy = med[MEMCPY], jsMin = min['js'], copyMin = min[MEMCPY];
  console.log(`${name.padEnd(13)} ` + Object.keys(med).map((k) => {
    const c = cpu[k]!, ns = (c.us * 1e3) / c.calls / N;
    const ratios = js && k !== 'js' && k !== MEMCPY
      ? ` (${(js / med[k]!).toFixed(1)}× js [${(jsMin! / min[k]!).toFixed(1)}]${copy ? `, ${(med[k]! / copy).toFixed(1)}× memcpy [${(min[k]! / copyMin!).toFixed(1)}]` : ''})`
      : '';
    return `${k} ${med[k]!.toFixed(2)} / ${min[k]!.toFixed(2)} ms, ${ns.toFixed(2)} ns/tok${ratios}`;
  }).join(' | '));
}
disposeDefaultContext();
