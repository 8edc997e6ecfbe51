/**
 * The worker pool: results in input order and equal to the single-thread scores on 10k+ responses,
 * errors from workers re-thrown as RewardkitError (with the caller's index), a worker that dies, and a
 * process that exits on its own with idle workers.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { ruleRewards, closeRulePools, RewardkitError, type RuleOptions } from '../lib/index.js';
import { rulePool, RulePool } from '../lib/rules/pool.js';
import { checkRule } from '../lib/rules/spec.js';
import { rng } from './helpers.js';

/** Responses of ~1 KB with a varied final answer, and references that match about half of them. */
function batch(n: number, seed: number): { responses: string[]; references: string[] } {
  const r = rng(seed);
  const forms = ['\\boxed{N}', '#### N', 'The answer is N.', '<answer>N</answer>', '\\boxed{\\frac{N}{2}}'];
  const responses: string[] = [], references: string[] = [];
  for (let i = 0; i < n; i++) {
    const v = Math.floor(r() * 1000);
    const filler = 'We reason about the problem step by step, carefully. '.repeat(1 + Math.floor(r() * 36));
    const form = forms[Math.floor(r() * forms.length)]!;
    const think = r() < 0.5 ? `<think>\n${filler}\n</think>\n<answer>\n` : filler;
    responses.push(think + form.replace('N', String(v)) + (think.startsWith('<think>') ? '\n</answer>' : ''));
    references.push(String(r() < 0.5 ? v : v + 1));
  }
  return { responses, references };
}

const rules: Array<RuleOptions['name'] | RuleOptions> = [
  'math', 'gsm8k', 'format', 'f1', 'exact',
  { name: 'math', extract: 'auto' },
  { name: 'format', format: 'tag-count' },
  { name: 'format', format: { pattern: '</answer>$' } },
];

test('pool scores equal the single-thread scores, in input order (12k responses, every rule)', async () => {
  const { responses, references } = batch(12_000, 1);
  for (const rule of rules) {
    const single = await ruleRewards({ responses, references, rule, workers: 0, details: true });
    const pooled = await ruleRewards({ responses, references, rule, workers: 2, details: true });
    assert.equal(pooled.scores, single.scores, JSON.stringify(rule));
    assert.equal(pooled.answers, single.answers, JSON.stringify(rule));
    const sum = single.scores.reduce((a, b) => a + b, 0);
    if (rule !== 'exact') assert.ok(sum > 0 && sum < responses.length, `${JSON.stringify(rule)}: a mix of scores (${sum})`);
  }
});

test("'auto' gives the same scores whichever side it picks, and tiny chunks keep the order", async () => {
  const { responses, references } = batch(10_000, 2);
  for (const rule of ['math', 'f1'] as const) {
    const single = await ruleRewards({ responses, references, rule, workers: 0, details: true });
    const auto = await ruleRewards({ responses, references, rule, details: true });
    assert.equal(auto.scores, single.scores);
    assert.equal(auto.answers, single.answers);
  }
  const spec = checkRule('math');
  const small = await rulePool(3).run(spec, responses, references, false, 7);
  const single = await ruleRewards({ responses, references, rule: 'math', workers: 0 });
  assert.equal(small.scores, single.scores);
});

test('a worker error comes back as the RewardkitError it was, naming the caller\'s index', async () => {
  const { responses } = batch(10_000, 3);
  const references: string[] = responses.map(() => 'B');
  references[9_000] = 'not a letter';
  try {
    await ruleRewards({ responses, references, rule: 'choice', workers: 2 });
    assert.unreachable('no error');
  } catch (e) {
    assert.instance(e, RewardkitError);
    assert.is((e as RewardkitError).code, 'E_VALUE');
    assert.is((e as RewardkitError).argument, 'references[9000]');
  }
  // The same error on the calling thread.
  try {
    await ruleRewards({ responses, references, rule: 'choice', workers: 0 });
    assert.unreachable('no error');
  } catch (e) {
    assert.is((e as RewardkitError).argument, 'references[9000]');
  }
  // A spec that skipped checkRule fails inside the worker, and the pool still works afterwards.
  const pool = rulePool(2);
  try {
    await pool.run({ ...checkRule('math'), name: 'bogus' as 'math' }, responses.slice(0, 100), references.slice(0, 100), false);
    assert.unreachable('no error');
  } catch (e) {
    assert.instance(e, RewardkitError);
    assert.is((e as RewardkitError).argument, 'rule.name');
  }
  const ok = await pool.run(checkRule('format'), responses.slice(0, 100), undefined, false);
  assert.is(ok.scores.length, 100);
});

test('a worker that dies mid-batch rejects with E_WORKER; the pool replaces it', async () => {
  const { responses, references } = batch(20_000, 4);
  const pool = new RulePool(2);
  const spec = checkRule('f1');
  const running = pool.run(spec, responses, references, false, 200);
  await new Promise((r) => setTimeout(r, 5));
  void pool.workers[0]?.terminate();
  try {
    await running;
    assert.unreachable('no error');
  } catch (e) {
    assert.instance(e, RewardkitError);
    assert.is((e as RewardkitError).code, 'E_WORKER');
  }
  const again = await pool.run(spec, responses.slice(0, 500), references.slice(0, 500), false);
  const single = await ruleRewards({ responses: responses.slice(0, 500), references: references.slice(0, 500), rule: 'f1', workers: 0 });
  assert.equal(again.scores, single.scores);
  await pool.close();
  try {
    await pool.run(spec, responses.slice(0, 10), references.slice(0, 10), false);
    assert.unreachable('no error');
  } catch (e) {
    assert.is((e as RewardkitError).code, 'E_WORKER');
  }
});

test('a process that used the pool exits by itself (idle workers are unref\'d)', () => {
  const index = fileURLToPath(new URL('../lib/index.js', import.meta.url));
  const script = `
    const { ruleRewards } = await import(${JSON.stringify(index)});
    const responses = Array.from({ length: 5000 }, (_, i) => 'x \\\\boxed{' + i + '}');
    const r = await ruleRewards({ responses, references: responses.map((_, i) => String(i)), rule: 'math', workers: 2 });
    console.log(r.scores.reduce((a, b) => a + b, 0));`;
  const t = Date.now();
  const child = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 30_000 });
  assert.is(child.status, 0, child.stderr);
  assert.is(child.stdout.trim(), '5000');
  assert.ok(Date.now() - t < 30_000);
});

test.after(async () => { await closeRulePools(); });
test.run();
