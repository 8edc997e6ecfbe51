/**
 * `npm run bench:suites -- python`: rewardkit's GRPO advantage against the same formula in Python, measured
 * in the same run on the same inputs: verl's loop over groups (bench/py/grpo.py, numpy in place of
 * torch) and a vectorised numpy version (bincount statistics, `out=` for the token broadcast).
 * Inputs: token-level rewards [B, T] f32 (the reward on each row's last trained token), a bool/u8
 * mask, groups of 16; verl's preset. The numpy result is checked against rewardkit's first.
 *
 *   npm run bench:suites -- python [--rows 65536] [--cols 1024] [--runs 5]
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Bench } from 'tinybench';
import { grpoAdvantages, nativeStatus } from '../lib/index.js';
import { packageRoot } from '../lib/paths.js';

const arg = (name: string, d: number) => { const i = process.argv.indexOf(`--${name}`); return i > 0 ? Number(process.argv[i + 1]) : d; };
const B = arg('rows', 65536), T = arg('cols', 1024), runs = arg('runs', 5), G = 16;

const rewards = new Float32Array(B * T), mask = new Uint8Array(B * T), groups = new Int32Array(B);
for (let i = 0; i < B; i++) {
  const len = 16 + ((i * 7919) % (T - 15));
  mask.fill(1, i * T, i * T + len);
  rewards[i * T + len - 1] = (i * 2654435761) % 7 < 3 ? 1 : 0.25 * ((i * 40503) % 5);
  groups[i] = Math.floor(i / G);
}
const folder = mkdtempSync(join(tmpdir(), 'rewardkit-py-'));
try {
  writeFileSync(join(folder, 'rewards.f32'), rewards);
  writeFileSync(join(folder, 'mask.u8'), mask);
  writeFileSync(join(folder, 'groups.i32'), groups);

  const backends = nativeStatus().available ? (['js', 'native'] as const) : (['js'] as const);
  const out = { tokenAdvantages: new Float32Array(B * T), rowAdvantages: new Float32Array(B) };
  const options = { scores: rewards, scoreLevel: 'token' as const, mask, shape: [B, T] as [number, number], groups, out };
  const bench = new Bench({ time: 0, iterations: runs, warmupIterations: 3, warmupTime: 0 });
  for (const backend of backends) bench.add(backend, async () => { await grpoAdvantages({ ...options, backend }); });
  await bench.run();
  const ms: Record<string, number> = {};
  for (const task of bench.tasks) ms[task.name] = (task.result as unknown as { latency: { p50: number } }).latency.p50;

  const py = spawnSync('python3', [join(packageRoot(), 'bench', 'py', 'grpo.py'), String(B), String(T), String(runs), folder], { encoding: 'utf8', maxBuffer: 1 << 20 });
  if (py.status !== 0) throw new Error(`python3 bench/py/grpo.py failed (needs python3 with numpy): ${py.stderr}`);
  const p = JSON.parse(py.stdout.trim().split('\n').pop()!) as { loopMs: number; numpyMs: number; numpy: string; python: string };

  // Same numbers: numpy's advantages against rewardkit's (f32 both; summation orders differ).
  await grpoAdvantages({ ...options, backend: backends[backends.length - 1] });
  const theirs = new Float32Array(readFileSync(join(folder, 'numpy.f32')).buffer.slice(0));
  let worst = 0;
  for (let t = 0; t < theirs.length; t++) worst = Math.max(worst, Math.abs(theirs[t]! - out.tokenAdvantages[t]!));

  const best = Math.min(...Object.values(ms));
  console.log(`GRPO advantages, ${B} responses × ${T} tokens (groups of ${G}), medians of ${runs}; Python ${p.python}, numpy ${p.numpy}`);
  console.log(`  python loop over groups (verl's form): ${p.loopMs.toFixed(1)} ms`);
  console.log(`  numpy vectorised:                      ${p.numpyMs.toFixed(1)} ms`);
  for (const [name, v] of Object.entries(ms)) console.log(`  rewardkit ${name.padEnd(28)}${v.toFixed(1)} ms  (${(p.loopMs / v).toFixed(1)}× the loop, ${(p.numpyMs / v).toFixed(1)}× numpy)`);
  console.log(`  max |numpy − rewardkit| = ${worst.toExponential(2)} (fastest rewardkit ${best.toFixed(1)} ms)`);
} finally {
  rmSync(folder, { recursive: true, force: true });
}
