/**
 * Every op of the library is declared to the benchmark harness and runs there on every backend it
 * has (smoke preset: one tiny size each, no peers — those are tested in bench-peers.test.ts), and
 * `rewardkit bench` works end to end from the command line.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as api from '../lib/index.js';
import { disposeDefaultContext, gpuStatus } from '../lib/backends/webgpu/context.js';
import { allOps } from '../lib/bench/ops/index.js';
import { renderHtml } from '../lib/bench/report/html.js';
import { renderMarkdown } from '../lib/bench/report/markdown.js';
import { runBench } from '../lib/bench/runner.js';
import { presets, type BenchReport } from '../lib/bench/types.js';
import { isCI } from './helpers.js';

const cli = join(dirname(fileURLToPath(import.meta.url)), '..', 'lib', 'cli', 'main.js');
const dir = mkdtempSync(join(tmpdir(), 'rewardkit-bench-ops-'));

/** Exports that are not ops: runtime plumbing, registries, preparation and pure parsing helpers. */
const notOps = new Set([
  'RewardkitError', 'GpuContext', 'createContext', 'getContext', 'disposeDefaultContext', 'gpuStatus', 'nativeStatus',
  'backendStatus', 'chooseBackend', 'registerOutcomeEstimator', 'closeRulePools', 'getKlController', 'defaultUpload',
]);

/** Exports timed inside another declaration: per-string rule helpers, preparation steps, scalar helpers. */
const timedInside: Record<string, string> = {
  extractAnswer: 'ruleRewards/math', extractBoxed: 'ruleRewards/math', extractGsm8k: 'ruleRewards/gsm8k',
  extractLastNumber: 'ruleRewards/last-number', extractAnswerTag: 'ruleRewards/answer-tag',
  normalizeAnswer: 'ruleRewards/math', isEquivalent: 'ruleRewards/math', formatReward: 'ruleRewards/format',
  exactMatch: 'ruleRewards/exact', extractChoice: 'ruleRewards/choice', f1Score: 'ruleRewards/f1', normalizeText: 'ruleRewards/f1',
  outcomeEstimators: 'outcomeAdvantages/grpo', prepareHeads: 'scoreHeads/mlp', readSafetensors: 'loadHead',
  prepareStep: 'diffusionStep/sde', finishStep: 'diffusionStep/sde', stepJs: 'diffusionStep/sde',
  fluxMu: 'fluxSigmas', roundHalfEven: 'ttsnapKeep', gaussianFlow: 'runTrajectories',
};

test('every exported op has a declaration (or is timed inside one)', () => {
  const declared = new Set(allOps.map((o) => o.op));
  const ids = new Set(allOps.map((o) => o.id));
  const missing = Object.entries(api).filter(([name, v]) => typeof v === 'function' && !notOps.has(name) && !declared.has(name) && !timedInside[name]).map(([n]) => n);
  assert.equal(missing, [], `ops without a bench declaration: ${missing.join(', ')}`);
  for (const [name, id] of Object.entries(timedInside)) assert.ok(ids.has(id), `${name} is said to be timed inside ${id}, which is not declared`);
});

test('declarations are well formed', () => {
  const ids = new Set<string>();
  for (const o of allOps) {
    assert.not.ok(ids.has(o.id), `duplicate id ${o.id}`);
    ids.add(o.id);
    assert.ok(o.backends.length > 0 && o.backends.includes('js'), `${o.id}: js (the reference) must be among ${o.backends}`);
    assert.ok(o.backends.every((b) => b === 'js' || b === 'native' || b === 'webgpu'), `${o.id}: backends ${o.backends}`);
    for (const p of presets) {
      const s = o.sizes[p];
      assert.ok(s.length > 0 && s.every((x, i) => Number.isInteger(x) && x > 0 && (i === 0 || x > s[i - 1]!)), `${o.id}: ${p} sizes ${s}`);
    }
    assert.is(o.sizes.smoke.length, 1, `${o.id}: smoke has one size`);
  }
});

test('the smoke preset runs every op on every backend here, without a failure', async () => {
  const gpu = await gpuStatus();
  if (isCI) {
    assert.ok(api.nativeStatus().available, `CI must have the addon: ${api.nativeStatus().reason}`);
    assert.ok(gpu.available, `CI must have WebGPU (lavapipe): ${gpu.reason}`);
  }
  const report = await runBench(allOps, { preset: 'smoke', minTimeMs: 0, minIterations: 2, warmup: 0, uploadSizes: [65536] });
  assert.equal(report.failures, [], JSON.stringify(report.failures.slice(0, 5)));
  for (const o of report.ops) {
    for (const b of o.backends) {
      const r = report.results.find((x) => x.id === o.id && x.backend === b);
      assert.ok(r && r.medianMs > 0 && Number.isFinite(r.medianMs), `${o.id} on ${b}: no time`);
      if (o.bound === 'memory') assert.ok(r!.bytes > 0 && r!.roofline && r!.roofline.fraction > 0, `${o.id} on ${b}: no roofline`);
      if (o.bound === 'compute') assert.ok(r!.gflops! > 0, `${o.id} on ${b}: no FLOP/s`);
    }
    const all = allOps.find((x) => x.id === o.id)!.backends;
    const here = all.filter((b) => b === 'js' || (b === 'native' && api.nativeStatus().available) || (b === 'webgpu' && gpu.available));
    assert.equal([...o.backends].sort(), [...here].sort(), `${o.id}: ran on ${o.backends}, has ${all}`);
  }
  assert.ok(report.rooflines.some((r) => r.kind === 'host-memcpy'));
  if (gpu.available) {
    assert.ok(report.rooflines.some((r) => r.kind === 'device-copy'));
    assert.ok(report.upload && report.upload.uploads.length >= 3 && report.upload.uploads.every((u) => u.gbps > 0), 'upload paths measured');
    assert.ok(report.upload!.overhead.every((o) => o.medianMs > 0));
    assert.match(renderHtml(report), 'Host → device upload');
    assert.match(renderMarkdown(report), '## Host → device upload');
  }
});

const run = (...args: string[]) => spawnSync(process.execPath, [cli, 'bench', ...args], { encoding: 'utf8', timeout: 120_000, env: { ...process.env, NO_COLOR: '1' } });

test('cli: one op to JSON, HTML and markdown, with progress on stderr', () => {
  const [json, html, md] = ['r.json', 'r.html', 'r.md'].map((f) => join(dir, f)) as [string, string, string];
  const r = run('--preset', 'smoke', '--op', 'grpoAdvantages', '--no-peers', '--iterations', '2', '--time', '0', '--json', json, '--html', html, '--md', md);
  assert.is(r.status, 0, r.stderr);
  assert.match(r.stderr, /\[1\/\d+\] grpoAdvantages @ /);
  const report = JSON.parse(readFileSync(json, 'utf8')) as BenchReport;
  assert.ok(report.results.length >= 1 && report.results.every((x) => x.op === 'grpoAdvantages'));
  assert.match(readFileSync(html, 'utf8'), /<svg[^>]*class="chart"/);
  assert.ok(existsSync(md));
  assert.match(r.stdout, /grpoAdvantages/);
  const again = run('--from', json, '--md', join(dir, 'again.md'));
  assert.is(again.status, 0, again.stderr);
  assert.is(readFileSync(join(dir, 'again.md'), 'utf8'), readFileSync(md, 'utf8'), 'a report re-renders identically');
});

test('cli: SIGTERM stops the run after the current measurement and still writes a partial report', async () => {
  const json = join(dir, 'partial.json');
  const child = spawn(process.execPath, [cli, 'bench', '--preset', 'small', '--no-peers', '--no-upload', '--backend', 'js', '--json', json], { stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '', sent = false;
  child.stderr.on('data', (d: Buffer) => {
    err += d.toString();
    if (!sent && /\[\s*3\//.test(err)) { sent = true; child.kill('SIGTERM'); }
  });
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  assert.is(code, 1, err.slice(-500));
  assert.match(err, 'stopping after the current measurement');
  const report = JSON.parse(readFileSync(json, 'utf8')) as BenchReport;
  assert.is(report.partial, true);
  assert.ok(report.results.length >= 3 && report.results.length < 40, `${report.results.length} results`);
});

test('cli: --list names every declaration; bad flags are refused with a message', () => {
  const l = run('--list');
  assert.is(l.status, 0);
  for (const o of allOps) assert.ok(l.stdout.includes(o.id), `--list lacks ${o.id}`);
  const bad = run('--preset', 'huge');
  assert.is.not(bad.status, 0);
  assert.match(bad.stderr, /--preset expects one of smoke, small, laptop, datacenter but received 'huge'/);
  const neg = run('--max-size', '-3');
  assert.is.not(neg.status, 0);
  assert.match(neg.stderr, /--max-size/);
  const unknown = run('--frobnicate');
  assert.is.not(unknown.status, 0);
  assert.match(unknown.stderr, /frobnicate/);
});

test.after(() => { disposeDefaultContext(); rmSync(dir, { recursive: true, force: true }); });
test.run();
