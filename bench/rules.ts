/**
 * `npm run bench:suites -- rules`: rule rewards on ~1 KB responses, responses per second on the calling thread
 * (workers: 0), on a pool of one worker per core, and with `workers: 'auto'`. Prints medians; writes
 * JSON to bench/results/.
 *
 *   npm run bench:suites -- rules [--n 20000] [--rules math,gsm8k,...] [--out file.json]
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { dirname, join } from 'node:path';
import { Bench } from 'tinybench';
import { closeRulePools, ruleRewards, type RuleOptions } from '../lib/index.js';
import { packageRoot } from '../lib/paths.js';

const arg = (name: string) => { const i = process.argv.indexOf(`--${name}`); return i > 0 ? process.argv[i + 1] : undefined; };
const n = Number(arg('n') ?? 20_000);
const cores = availableParallelism();

// ~1 KB responses in the shapes RL rollouts have: reasoning, then a boxed / #### / tagged answer.
const responses: string[] = [], references: string[] = [], letters: string[] = [];
let seed = 12345;
const rand = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32);
const sentences = ['First, compute the total cost of the apples and the pears. ', 'Then subtract what was already paid, which is $1,250. ',
  'Let x be the number of hours; then 3x + 5 = 20. ', 'So the ratio is \\frac{3}{4} of the original amount. ', 'Checking the units again gives the same result. '];
for (let i = 0; i < n; i++) {
  let body = '';
  while (body.length < 900) body += sentences[Math.floor(rand() * sentences.length)];
  const v = Math.floor(rand() * 1000);
  const answer = rand() < 0.5 ? String(v) : `\\frac{${v}}{4}`;
  const letter = 'ABCD'[Math.floor(rand() * 4)]!;
  responses.push(`<think>\n${body}\n</think>\n<answer>\nThe answer is \\boxed{${answer}}, so (${letter}).\n#### ${v}\n</answer>`);
  references.push(rand() < 0.5 ? answer : String(v + 1));
  letters.push(rand() < 0.5 ? letter : 'A');
}
// Flat strings, as a tokenizer's decode returns them (concatenations would be flattened on first use).
const flat = JSON.parse(JSON.stringify(responses)) as string[];
const avgBytes = flat.reduce((a, s) => a + s.length, 0) / n;

const suites: Array<[string, RuleOptions, string[] | undefined]> = [
  ['math', { name: 'math' }, references],
  ['math (auto extract)', { name: 'math', extract: 'auto' }, references],
  ['gsm8k', { name: 'gsm8k' }, references],
  ['format', { name: 'format' }, undefined],
  ['choice', { name: 'choice', letters: 'ABCD' }, letters],
  ['exact (answer tag)', { name: 'exact', extract: 'answer-tag' }, references],
  ['f1 (whole response)', { name: 'f1' }, references],
];
const only = arg('rules')?.split(',');

interface Row { rule: string; mode: string; medianMs: number; perSecond: number; samples: number }
const results: Row[] = [];
console.log(`${n} responses of ${avgBytes.toFixed(0)} characters, ${cores} cores`);
for (const [name, rule, refs] of suites) {
  if (only && !only.some((o) => name.startsWith(o))) continue;
  const bench = new Bench({ time: 0, iterations: 8, warmupIterations: 2, warmupTime: 0 });
  const base = { responses: flat, rule, ...(refs ? { references: refs } : {}) };
  bench.add('single thread', async () => { await ruleRewards({ ...base, workers: 0 }); });
  if (cores > 1) bench.add(`pool (${cores} workers)`, async () => { await ruleRewards({ ...base, workers: cores }); });
  bench.add('auto', async () => { await ruleRewards({ ...base, workers: 'auto' }); });
  await bench.run();
  const line: string[] = [];
  for (const task of bench.tasks) {
    const r = task.result as unknown as { latency: { p50: number; samplesCount?: number; samples?: number[] } } | undefined;
    if (!r?.latency) { console.log(`${name} ${task.name}: failed`, (task.result as { error?: unknown })?.error); continue; }
    const ms = r.latency.p50;
    results.push({ rule: name, mode: task.name, medianMs: ms, perSecond: (n / ms) * 1000, samples: r.latency.samplesCount ?? r.latency.samples?.length ?? 0 });
    line.push(`${task.name} ${((n / ms) * 1000 / 1000).toFixed(0)}k/s (${ms.toFixed(1)} ms)`);
  }
  console.log(`${name.padEnd(22)} ${line.join(' | ')}`);
}
await closeRulePools();

const out = arg('out') ?? join(packageRoot(), 'bench', 'results', `rules-${Date.now()}.json`);
mkdirSync(dirname(out), { recursive: true });
writeFileSync(out, JSON.stringify({ n, avgBytes, cores, node: process.version, results }, null, 2));
console.log(`\nwrote ${out}`);
