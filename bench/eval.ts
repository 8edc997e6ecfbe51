/**
 * `npm run bench:suites -- eval`: bradleyTerry (P pairs, with a per-pair margin) and tabular epicDistance
 * on every available backend, beside a memcpy of the same bytes measured in the same run.
 *
 *   npm run bench:suites -- eval [--max 8388608] [--backends js,native,webgpu]
 */
import { Bench } from 'tinybench';
import { bradleyTerry, epicDistance, nativeStatus } from '../lib/index.js';
import { loadNative } from '../lib/backends/native.js';
import { disposeDefaultContext, gpuStatus } from '../lib/backends/webgpu/context.js';

const arg = (name: string) => { const i = process.argv.indexOf(`--${name}`); return i > 0 ? process.argv[i + 1] : undefined; };
const max = Number(arg('max') ?? 8 * 1024 * 1024);
const want = (arg('backends') ?? 'js,native,webgpu').split(',');
const backends: Array<'js' | 'native' | 'webgpu'> = [];
if (want.includes('js')) backends.push('js');
if (want.includes('native') && nativeStatus().available) backends.push('native');
if (want.includes('webgpu') && (await gpuStatus()).available) backends.push('webgpu');

async function measure(label: string, n: number, bytes: number, tasks: Record<string, () => Promise<unknown>>): Promise<void> {
  const big = n >= 1 << 20;
  const bench = new Bench({ time: big ? 0 : 200, iterations: big ? 5 : 10, warmupIterations: 1, warmupTime: 0 });
  for (const [name, fn] of Object.entries(tasks)) bench.add(name, fn);
  const src = new Uint8Array(Math.ceil(bytes / 2)).fill(1), dst = new Uint8Array(src.length);
  if (nativeStatus().available) { const addon = loadNative(); bench.add('memcpy (native)', async () => { await addon.copy(dst, src); }); }
  await bench.run();
  const ms = (name: string) => (bench.tasks.find((t) => t.name === name)?.result as { latency?: { p50: number } } | undefined)?.latency?.p50;
  const js = ms('js');
  console.log(`${label.padEnd(22)} ` + bench.tasks.map((t) => {
    const m = ms(t.name);
    return m === undefined ? `${t.name} failed` : `${t.name} ${m.toFixed(2)} ms${js && t.name !== 'js' && !t.name.startsWith('memcpy') ? ` (${(js / m).toFixed(1)}× js)` : ''}`;
  }).join(' | '));
}

for (const n of [65_536, 1 << 20, 8 << 20].filter((x) => x <= max)) {
  const chosen = new Float32Array(n), rejected = new Float32Array(n), margin = new Float32Array(n);
  for (let i = 0; i < n; i++) { chosen[i] = Math.sin(i); rejected[i] = Math.cos(i * 1.3); margin[i] = (i % 5) * 0.1; }
  // Outputs reused across calls (the `out` option): fresh 32 MiB arrays cost more in page faults than the op.
  const out = { probabilities: new Float32Array(n).fill(1), losses: new Float32Array(n).fill(1) };
  const tasks: Record<string, () => Promise<unknown>> = {};
  for (const b of backends) tasks[b] = () => bradleyTerry({ chosen, rejected, margin, backend: b, out });
  await measure(`bradleyTerry ${n}`, n, n * 20, tasks); // read 3 f32, write 2 f32 per pair
}
for (const S of [64, 256, 1024].filter((s) => s * s * 8 <= max)) {
  const n = S * 8 * S, a = new Float32Array(n), b = new Float32Array(n);
  for (let i = 0; i < n; i++) { a[i] = Math.sin(i * 0.7); b[i] = Math.sin(i * 0.7 + 0.1); }
  const tasks: Record<string, () => Promise<unknown>> = {};
  for (const be of backends) tasks[be] = () => epicDistance({ rewardA: a, rewardB: b, shape: [S, 8], backend: be });
  await measure(`epicDistance ${S}x8x${S}`, n, n * 8, tasks);
}
disposeDefaultContext();
