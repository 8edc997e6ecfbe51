/**
 * Benchmark declarations of the verifiable rule rewards (issue 4 §5) on ~1 KB responses. Rules run
 * on the CPU: the js backend, with `workers: 'auto'` as users call it (the calling thread below
 * autoWorkerThreshold responses; above it the first 1,024 are timed and the rest go to one worker per
 * core when a response costs more to score than to post, as for F1), plus one case that always uses
 * the pool so both cores are measured. dispose() terminates the pool's workers.
 *
 * Bytes: the responses' and references' characters (ASCII: one byte each) read, 4 bytes a score
 * written.
 */
import { availableParallelism } from 'node:os';
import { closeRulePools, combineRewards, extractAnswerPhrase, ruleRewards, type RuleOptions } from '../../index.js';
import { count, floats, hash01 } from '../inputs.js';
import type { OpBench, Preset } from '../types.js';

const fmt = count;

const sizes: Record<Preset, readonly number[]> = {
  smoke: [128],
  small: [1000, 10000, 50000],
  laptop: [1000, 10000, 100000],
  datacenter: [10000, 100000, 500000],
};

const sentences = [
  'First, compute the total cost of the apples and the pears. ', 'Then subtract what was already paid, which is $1,250. ',
  'Let x be the number of hours; then 3x + 5 = 20. ', 'So the ratio is \\frac{3}{4} of the original amount. ',
  'Checking the units again gives the same result. ',
];

interface Corpus { responses: string[]; references: string[]; letters: string[]; chars: number; refChars: number; letterChars: number }

/** Every response made so far: a size's corpus is a prefix, so each response is built once per process. */
const made: Pick<Corpus, 'responses' | 'references' | 'letters'> = { responses: [], references: [], letters: [] };

/**
 * The first n responses of ~1 KB in the shape RL rollouts have (reasoning in <think>, then a boxed,
 * lettered and #### answer in <answer>), half of them right, with their references and letters.
 */
function corpus(n: number): Corpus {
  const from = made.responses.length;
  if (n > from) {
    const responses: string[] = [], references: string[] = [], letters: string[] = [];
    for (let i = from; i < n; i++) {
      let body = '';
      // Sentences are 48+ characters: at most 19 of the 32 hashes reserved per response are drawn.
      for (let k = 32 * i; body.length < 900; k++) body += sentences[Math.floor(hash01(k, 90) * sentences.length)];
      const v = Math.floor(hash01(i, 91) * 1000);
      const answer = hash01(i, 92) < 0.5 ? String(v) : `\\frac{${v}}{4}`;
      const letter = 'ABCD'[Math.floor(hash01(i, 93) * 4)]!;
      responses.push(`<think>\n${body}\n</think>\n<answer>\nThe answer is (${letter}), the value \\boxed{${answer}}.\n#### ${v}\n</answer>`);
      references.push(hash01(i, 94) < 0.5 ? answer : String(v + 1));
      letters.push(hash01(i, 95) < 0.5 ? letter : 'A');
    }
    // Flat strings, as a tokenizer's decode returns them (concatenations would be flattened on first use).
    const flat = JSON.parse(JSON.stringify({ responses, references, letters })) as typeof made;
    for (let i = 0; i < responses.length; i++) {
      made.responses.push(flat.responses[i]!); made.references.push(flat.references[i]!); made.letters.push(flat.letters[i]!);
    }
  }
  const c: Corpus = { responses: made.responses.slice(0, n), references: made.references.slice(0, n), letters: made.letters.slice(0, n), chars: 0, refChars: 0, letterChars: 0 };
  for (let i = 0; i < n; i++) { c.chars += c.responses[i]!.length; c.refChars += c.references[i]!.length; c.letterChars += c.letters[i]!.length; }
  return c;
}

type Refs = 'answers' | 'letters' | 'none';

/** F1 tokenises whole responses (~10× the cost of the other rules): a shorter sweep. */
const f1Sizes: Record<Preset, readonly number[]> = { smoke: [128], small: [1000, 10000, 20000], laptop: [1000, 10000, 50000], datacenter: [10000, 100000, 200000] };

const kinds: Array<{ name: string; rule: RuleOptions; refs: Refs; workers?: number; sizes?: Record<Preset, readonly number[]> }> = [
  { name: 'math', rule: { name: 'math' }, refs: 'answers' },
  { name: 'math-auto', rule: { name: 'math', extract: 'auto' }, refs: 'answers' },
  { name: 'gsm8k', rule: { name: 'gsm8k' }, refs: 'answers' },
  { name: 'format', rule: { name: 'format' }, refs: 'none' },
  { name: 'choice', rule: { name: 'choice', letters: 'ABCD' }, refs: 'letters' },
  { name: 'exact', rule: { name: 'exact', extract: 'boxed' }, refs: 'answers' },
  { name: 'last-number', rule: { name: 'math', extract: 'last-number' }, refs: 'answers' },
  { name: 'answer-tag', rule: { name: 'exact', extract: 'answer-tag' }, refs: 'answers' },
  { name: 'f1', rule: { name: 'f1' }, refs: 'answers', sizes: f1Sizes },
  { name: 'math-pool', rule: { name: 'math' }, refs: 'answers', workers: availableParallelism() },
];

const ruleBenches: OpBench[] = kinds.map(({ name, rule, refs, workers, sizes: own }) => ({
  id: `ruleRewards/${name}`, op: 'ruleRewards', family: 'rules', unit: 'responses', backends: ['js'], bound: 'cpu', sizes: own ?? sizes,
  setup(n) {
    const c = corpus(n);
    const references = refs === 'answers' ? c.references : refs === 'letters' ? c.letters : undefined;
    const refBytes = refs === 'answers' ? c.refChars : refs === 'letters' ? c.letterChars : 0;
    const how = workers === undefined ? "workers 'auto'" : `${workers} workers`;
    return {
      label: `${fmt(n)} responses of ~${Math.round(c.chars / n)} characters, ${how}`,
      bytes: c.chars + refBytes + 4 * n,
      run: () => ruleRewards({ responses: c.responses, rule, ...(references ? { references } : {}), workers: workers ?? 'auto' }),
      dispose: () => closeRulePools(),
    };
  },
}));

/** "The answer is …" extraction, which `auto` reaches only without a box, tag or `####`: timed alone. */
const phraseBench: OpBench = {
  id: 'extractAnswerPhrase', op: 'extractAnswerPhrase', family: 'rules', unit: 'responses', backends: ['js'], bound: 'cpu', sizes,
  setup(n) {
    const c = corpus(n);
    return { label: `${fmt(n)} responses of ~${Math.round(c.chars / n)} characters`, bytes: c.chars, run: () => c.responses.map(extractAnswerPhrase) };
  },
};

const combineBench: OpBench = {
  id: 'combineRewards', op: 'combineRewards', family: 'rules', unit: 'responses', backends: ['js'], bound: 'cpu', sizes,
  setup(n) {
    const c = corpus(n), model = floats(n, 96, -2, 2);
    return {
      label: `${fmt(n)} responses: reward-model score + math rule, gated by the format rule`,
      // responses (read by both rules) + references + model scores read; reward, 3 aspects and the pass flags written.
      bytes: 2 * c.chars + c.refChars + 4 * n + 4 * 4 * n + n,
      run: () => combineRewards({
        responses: c.responses, references: c.references,
        aspects: [{ name: 'rm', scores: model, weight: 0.5 }, { name: 'math', rule: 'math', weight: 1 }, { name: 'format', rule: 'format', weight: 0, gate: true }],
      }),
      dispose: () => closeRulePools(),
    };
  },
};

export const ruleOps: OpBench[] = [...ruleBenches, phraseBench, combineBench];
