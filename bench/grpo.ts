/**
 * `npm run bench:suites -- grpo`: GRPO advantages (verl preset, per-row 0/1 scores, u8 mask, groups of 16) on every
 * available backend from 1k to 64M tokens, beside a memcpy that moves the same bytes (the bandwidth
 * reference), measured in the same run. Prints a table; writes JSON to bench/results/.
 *
 *   npm run bench:suites -- grpo [--max 16777216] [--backends js,native,webgpu] [--out file.json]
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { Bench } from 'tinybench';
import { grpoAdvantages, nativeStatus } from '../lib/index.js';
import { loadNative } from '../lib/backends/native.js';
import { disposeDefaultContext, gpuStatus } from '../lib/backends/webgpu/context.js';
import { packageRoot } from '../lib/paths.js';

const arg = (name: string) => { const i = process.argv.indexOf(`--${name}`); return i > 0 ? process.argv[i + 1] : undefined; };
const T = 1024, G = 16;
const maxTokens = Number(arg('max') ?? 64 * 1024 * 1024);
const sizes = [1, 8, 64, 512, 4096, 8192, 16384, 65536].map((b) => b * T).filter((n) => n <= maxTokens);

const want = (arg('backends') ?? 'js,native,webgpu').split(',');
const backends: Array<'js' | 'native' | 'webgpu'> = [];
if (want.includes('js')) backends.push('js');
if (want.includes('native')) { if (nativeStatus().available) backends.push('native'); else console.log(`native skipped: ${nativeStatus().reason}`); }
const gpu = await gpuStatus();
if (want.includes('webgpu')) { if (gpu.available) backends.push('webgpu'); else console.log(`webgpu skipped: ${gpu.reason}`); }

interface Row { tokens: number; rows: number; task: string; medianMs: number; p99Ms: number; samples: number; gbps: number }
const results: Row[] = [];
const find = (tokens: number, task: string) => results.find((x) => x.tokens === tokens && x.task === task);

for (const tokens of sizes) {
  const rows = tokens / T;
  const scores = new Float32Array(rows), mask = new Uint8Array(tokens), groups = new Int32Array(rows);
  for (let i = 0; i < rows; i++) {
    scores[i] = (i * 2654435761) % 7 < 3 ? 1 : 0;
    groups[i] = Math.floor(i / G);
    mask.fill(1, i * T, i * T + 16 + ((i * 7919) % (T - 16)));
  }
  // Bytes the op must move: read mask and scores, write token and row advantages.
  const bytes = tokens * (1 + 4) + rows * (4 + 4 + 4);
  const big = tokens >= 4 << 20;
  const bench = new Bench({ time: big ? 0 : 300, iterations: big ? 5 : 10, warmupIterations: big ? 1 : 3, warmupTime: 0 });
  // Outputs are reused across calls (the `out` option), as a high-throughput caller would: a fresh
  // 256 MiB array costs more in page faults than the op itself on these machines.
  for (const backend of backends) {
    const out = { tokenAdvantages: new Float32Array(tokens).fill(1), rowAdvantages: new Float32Array(rows).fill(1) };
    bench.add(backend, async () => { await grpoAdvantages({ scores, mask, shape: [rows, T], groups, backend, out }); });
  }
  // memcpy moving the same bytes: read bytes/2 and write bytes/2.
  const src = new Uint8Array(Math.ceil(bytes / 2)), dst = new Uint8Array(src.length);
  src.fill(1);
  bench.add('memcpy (1 thread)', () => { dst.set(src); });
  if (nativeStatus().available) { const addon = loadNative(); bench.add('memcpy (native, all cores)', async () => { await addon.copy(dst, src); }); }
  await bench.run();
  for (const task of bench.tasks) {
    const r = task.result as unknown as { latency: { p50: number; p99: number; samplesCount?: number; samples?: number[] } } | undefined;
    if (!r?.latency) { console.log(`${task.name} at ${tokens}: failed`, (task.result as { error?: unknown })?.error); continue; }
    const median = r.latency.p50;
    results.push({ tokens, rows, task: task.name, medianMs: median, p99Ms: r.latency.p99, samples: r.latency.samplesCount ?? r.latency.samples?.length ?? 0, gbps: bytes / median / 1e6 });
  }
  const js = find(tokens, 'js');
  console.log(`${String(tokens).padStart(9)} tokens  ` + results.filter((x) => x.tokens === tokens).map((x) =>
    `${x.task} ${x.medianMs.toFixed(3)} ms (${x.gbps.toFixed(1)} GB/s${js && x.task !== 'js' && !x.task.startsWith('memcpy') ? `, ${(js.medianMs / x.medianMs).toFixed(1)}× js` : ''})`).join(' | '));
}
disposeDefaultContext();

// Crossovers for `auto`: the smallest size from which a backend beats js (and stays ahead).
const crossover = (name: string) => {
  let from: number | undefined;
  for (const tokens of sizes) {
    const js = find(tokens, 'js'), b = find(tokens, name);
    if (!js || !b) continue;
    if (b.medianMs < js.medianMs) from ??= tokens; else from = undefined;
  }
  return from;
};
const summary = { native: crossover('native'), webgpu: crossover('webgpu') };
console.log(`\ncrossover vs js (tokens): native ${summary.native ?? 'never'}, webgpu ${summary.webgpu ?? 'never'}`);
const at8M = sizes.filter((s) => s >= 8 << 20).map((tokens) => {
  const get = (task: string) => find(tokens, task)?.medianMs;
  const js = get('js'), native = get('native');
  const copies = [get('memcpy (native, all cores)'), get('memcpy (1 thread)')].filter((x): x is number => x !== undefined);
  const copy = copies.length ? Math.min(...copies) : undefined; // the faster memcpy is the reference
  return { tokens, nativeVsJs: js && native ? js / native : undefined, nativeVsMemcpy: native && copy ? native / copy : undefined };
});
for (const x of at8M) console.log(`${x.tokens} tokens: native is ${x.nativeVsJs?.toFixed(1)}× js, ${x.nativeVsMemcpy?.toFixed(2)}× the memcpy time`);

const out = arg('out') ?? join(packageRoot(), 'bench', 'results', `grpo-${new Date().toISOString().slice(0, 19).replace(/:/g, '')}.json`);
mkdirSync(dirname(out), { recursive: true });
writeFileSync(out, JSON.stringify({
  op: 'grpoAdvantages', date: new Date().toISOString(), node: process.version, T, G,
  adapter: gpu.adapter ? { vendor: gpu.adapter.vendor, device: gpu.adapter.device, architecture: gpu.adapter.architecture, software: gpu.adapter.software } : null,
  native: nativeStatus().info ?? null, results, crossover: summary, targets: at8M,
}, null, 2));
console.log(`wrote ${out}`);
