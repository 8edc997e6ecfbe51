/**
 * The bench suites still run: each at a small size on js and native (when built), so a refactor that
 * breaks a suite fails here instead of on the next benchmarking day. kl, loss, logits and diffusion only
 * have their target sizes (8M tokens, 512 × 32,000 logits, SD3.5 latents) and are left to `npm run bench:suites`.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { nativeStatus } from '../lib/index.js';

const bench = join(dirname(fileURLToPath(import.meta.url)), '..', 'bench');
const backends = nativeStatus().available ? 'js,native' : 'js';
const out = mkdtempSync(join(tmpdir(), 'rewardkit-bench-'));

const suites: Array<[string, string[]]> = [
  ['grpo', ['--max', '8192', '--backends', backends]],
  ['outcome', ['--max', '65536', '--iterations', '1', '--estimators', 'grpo,rloo']],
  ['token', ['--max', '65536', '--iterations', '1', '--backends', backends]],
  ['heads', ['--size', '64,64,32,2', '--backends', backends]],
  ['shaping', ['--max', '65536']],
  ['eval', ['--max', '65536', '--backends', backends]],
  ['diffusion-loss', ['--max', '65536', '--backends', backends]],
  ['stepper', ['--steps', '2', '--backends', backends]],
  ['rules', ['--n', '200']],
];

for (const [suite, args] of suites) {
  test(`bench/${suite} runs at a small size`, () => {
    const withOut = ['grpo', 'heads', 'shaping', 'diffusion-loss', 'stepper', 'rules'].includes(suite) ? ['--out', join(out, `${suite}.json`)] : [];
    const r = spawnSync(process.execPath, [join(bench, `${suite}.js`), ...args, ...withOut], { encoding: 'utf8', timeout: 120_000 });
    assert.is(r.status, 0, `${suite} exited with ${r.status ?? r.signal}: ${r.stderr.slice(-2000)}`);
    assert.match(r.stdout, /\d+(\.\d+)? ?ms|responses\/s|\/s/, `${suite} printed no timing:\n${r.stdout.slice(-1000)}`);
  });
}

test.after(() => rmSync(out, { recursive: true, force: true }));
test.run();
