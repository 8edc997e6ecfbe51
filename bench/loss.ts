/**
 * `node dist/bench/loss.js`: policyLoss (verl vanilla PPO, dual-clip, token-mean, u8 mask) at
 * 8,192 × 1,024 and 8,192 × 4,096 tokens on js, native (and webgpu when an adapter exists), beside a
 * memcpy moving the same bytes (read logp, old logp, advantages, mask; write loss and gradient),
 * measured in the same run. Medians and minimums of wall time, and process CPU time per token (all
 * threads; independent of other load on a shared machine). JSON to bench/results/.
 *
 *   node dist/bench/loss.js [--max 8388608] [--backends js,native,webgpu] [--out file.json]
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { Bench } from 'tinybench';
import { nativeStatus, policyLoss } from '../lib/index.js';
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
const B = 8192;
const maxTokens = Number(arg('max') ?? B * 4096);
const shapes = [1024, 4096].map((T) => [B, T] as const).filter(([b, t]) => b * t <= maxTokens);
const want = (arg('backends') ?? 'js,native,webgpu').split(',');
const backends: Array<'js' | 'native' | 'webgpu'> = [];
if (want.includes('js')) backends.push('js');
if (want.includes('native')) { if (nativeStatus().available) backends.push('native'); else console.log(`native skipped: ${nativeStatus().reason}`); }
const gpu = await gpuStatus();
if (want.includes('webgpu')) { if (gpu.available) backends.push('webgpu'); else console.log(`webgpu skipped: ${gpu.reason}`); }

interface Row { rows: number; cols: number; tokens: number; task: string; medianMs: number; minMs: number; cpuNsPerToken: number; samples: number; gbps: number }
const results: Row[] = [];
for (const [rows, T] of shapes) {
  const tokens = rows * T;
  const logProbs = new Float32Array(tokens), oldLogProbs = new Float32Array(tokens), advantages = new Float32Array(tokens), mask = new Uint8Array(tokens);
  for (let i = 0; i < rows; i++) {
    const a = ((i * 2654435761) % 7) / 3 - 1, len = 16 + ((i * 7919) % (T - 16));
    mask.fill(1, i * T, i * T + len);
    for (let t = i * T; t < i * T + T; t++) {
      logProbs[t] = -((t * 40503) % 1000) / 300;
      oldLogProbs[t] = logProbs[t]! + (((t * 2246822519) % 1001) - 500) / 1500;
      advantages[t] = t < i * T + len ? a : 0;
    }
  }
  const bytes = tokens * (4 * 3 + 1 + 4 * 2);
  const bench = new Bench({ time: 0, iterations: 5, warmupIterations: 1, warmupTime: 0 });
  const fns = new Map<string, () => unknown>();
  for (const backend of backends) {
    const out = { tokenLoss: new Float32Array(tokens).fill(1), gradient: new Float32Array(tokens).fill(1) };
    fns.set(backend, async () => { await policyLoss({ logProbs, oldLogProbs, advantages, mask, shape: [rows, T], backend, out }); });
  }
  const src = new Uint8Array(Math.ceil(bytes / 2)).fill(1), dst = new Uint8Array(src.length);
  fns.set('memcpy (1 thread)', () => { dst.set(src); });
  if (nativeStatus().available) { const addon = loadNative(); fns.set('memcpy (native, all cores)', async () => { await addon.copy(dst, src); }); }
  for (const [name, fn] of fns) bench.add(name, fn);
  await bench.run();
  for (const task of bench.tasks) {
    const r = task.result as unknown as { latency?: { p50: number; min: number; samplesCount?: number } } | undefined;
    if (!r?.latency) { console.log(`${task.name} at ${rows}×${T}: failed`, (task.result as { error?: unknown })?.error); continue; }
    const cpuNsPerToken = (await cpuPerCall(fns.get(task.name)!, task.name === 'js' ? 1 : 3)) * 1e6 / tokens;
    results.push({ rows, cols: T, tokens, task: task.name, medianMs: r.latency.p50, minMs: r.latency.min, cpuNsPerToken, samples: r.latency.samplesCount ?? 0, gbps: bytes / r.latency.p50 / 1e6 });
  }
  const get = (name: string) => results.find((x) => x.tokens === tokens && x.task === name)?.medianMs;
  const js = get('js'), native = get('native');
  const copies = [get('memcpy (native, all cores)'), get('memcpy (1 thread)')].filter((x): x is number => x !== undefined);
  console.log(`${rows}×${T} (${tokens} tokens, ${(bytes / 1e6).toFixed(0)} MB moved): ` + results.filter((x) => x.tokens === tokens).map((x) => `${x.task} ${x.medianMs.toFixed(1)} ms (min ${x.minMs.toFixed(1)}, cpu ${x.cpuNsPerToken.toFixed(2)} ns/token)`).join(' | '));
  const cpuOf = (name: string) => results.find((x) => x.tokens === tokens && x.task === name)?.cpuNsPerToken;
  const cpuNative = cpuOf('native'), cpuCopy = cpuOf('memcpy (native, all cores)');
  if (js && native && copies.length) console.log(`  native ${(js / native).toFixed(1)}× js, ${(native / Math.min(...copies)).toFixed(2)}× the fastest memcpy` +
    (cpuNative && cpuCopy ? ` (CPU time ${(cpuNative / cpuCopy).toFixed(2)}× the all-core memcpy's)` : ''));
}
disposeDefaultContext();
const out = arg('out') ?? join(packageRoot(), 'bench', 'results', `loss-${new Date().toISOString().slice(0, 19).replace(/:/g, '')}.json`);
mkdirSync(dirname(out), { recursive: true });
writeFileSync(out, JSON.stringify({ op: 'policyLoss (vanilla, token-mean)', date: new Date().toISOString(), node: process.version, native: nativeStatus().info ?? null,
  adapter: gpu.adapter ? { device: gpu.adapter.device, software: gpu.adapter.software } : null, results }, null, 2));
console.log(`wrote ${out}`);
