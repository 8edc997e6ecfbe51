/**
 * Rule rewards on bad input: typed RewardkitErrors naming the argument; and fast-check fuzzing of the
 * verifiers on random and adversarial strings: no crash, no hang (every extraction is linear: 100k '{'
 * or '\boxed{' repeated must finish in milliseconds, not in quadratic time).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fc from 'fast-check';
import {
  ruleRewards, combineRewards, RewardkitError, extractAnswer, extractChoice, isEquivalent, normalizeAnswer,
  formatReward, f1Score, exactMatch, extractModes, type RuleRewardsOptions, type CombineRewardsOptions,
} from '../lib/index.js';

const ok = (): RuleRewardsOptions => ({ responses: ['\\boxed{1}', '\\boxed{2}'], references: ['1', '2'], rule: 'math' });
const cases: Array<[string, () => unknown, string, string]> = [
  ['options not an object', () => null, 'E_VALUE', 'options'],
  ['responses not an array', () => ({ ...ok(), responses: 'abc' }), 'E_DTYPE', 'responses'],
  ['a number among responses', () => ({ ...ok(), responses: ['a', 5] }), 'E_DTYPE', 'responses[1]'],
  ['null among responses', () => ({ ...ok(), responses: [null, 'a'] }), 'E_DTYPE', 'responses[0]'],
  ['references shorter', () => ({ ...ok(), references: ['1'] }), 'E_SHAPE', 'references'],
  ['references longer', () => ({ ...ok(), references: ['1', '2', '3'] }), 'E_SHAPE', 'references'],
  ['references not an array', () => ({ ...ok(), references: '1,2' }), 'E_DTYPE', 'references'],
  ['a number among references', () => ({ ...ok(), references: ['1', 2] }), 'E_DTYPE', 'references[1]'],
  ['an empty reference list', () => ({ ...ok(), references: ['1', []] }), 'E_DTYPE', 'references[1]'],
  ['a number in a reference list', () => ({ ...ok(), references: ['1', ['2', 3]] }), 'E_DTYPE', 'references[1][1]'],
  ['missing references', () => ({ ...ok(), references: undefined }), 'E_VALUE', 'references'],
  ['bad rule name', () => ({ ...ok(), rule: 'regex' }), 'E_VALUE', 'rule'],
  ['bad rule name in options', () => ({ ...ok(), rule: { name: 'mathh' } }), 'E_VALUE', 'rule.name'],
  ['rule a number', () => ({ ...ok(), rule: 3 }), 'E_VALUE', 'rule'],
  ['bad extract mode', () => ({ ...ok(), rule: { name: 'math', extract: 'first' } }), 'E_VALUE', 'rule.extract'],
  ['negative tolerance', () => ({ ...ok(), tolerance: -1e-6 }), 'E_RANGE', 'tolerance'],
  ['negative abs tolerance', () => ({ ...ok(), tolerance: { abs: -1 } }), 'E_RANGE', 'tolerance.abs'],
  ['NaN tolerance', () => ({ ...ok(), tolerance: NaN }), 'E_VALUE', 'tolerance'],
  ['tolerance a string', () => ({ ...ok(), tolerance: '1e-6' }), 'E_VALUE', 'tolerance'],
  ['negative tolerance in the rule', () => ({ ...ok(), rule: { name: 'math', tolerance: { rel: -1 } } }), 'E_RANGE', 'rule.tolerance.rel'],
  ['exactIntegers not a boolean', () => ({ ...ok(), tolerance: { exactIntegers: 1 } }), 'E_VALUE', 'tolerance.exactIntegers'],
  ['bad format preset', () => ({ ...ok(), rule: { name: 'format', format: 'xml' } }), 'E_VALUE', 'rule.format'],
  ['bad format pattern', () => ({ ...ok(), rule: { name: 'format', format: { pattern: '(' } } }), 'E_VALUE', 'rule.format.pattern'],
  ['bad normalize', () => ({ ...ok(), rule: { name: 'exact', normalize: 'lower' } }), 'E_VALUE', 'rule.normalize'],
  ['bad letters', () => ({ ...ok(), rule: { name: 'choice', letters: 'A1' } }), 'E_VALUE', 'rule.letters'],
  ['NaN value', () => ({ ...ok(), rule: { name: 'math', values: { correct: NaN } } }), 'E_VALUE', 'rule.values.correct'],
  ['workers negative', () => ({ ...ok(), workers: -1 }), 'E_VALUE', 'workers'],
  ['workers fractional', () => ({ ...ok(), workers: 1.5 }), 'E_VALUE', 'workers'],
  ['workers a string', () => ({ ...ok(), workers: 'all' }), 'E_VALUE', 'workers'],
  ['details not a boolean', () => ({ ...ok(), details: 'yes' }), 'E_VALUE', 'details'],
  ['function rule on workers', () => ({ ...ok(), rule: () => 1, workers: 2 }), 'E_VALUE', 'workers'],
  ['function rule returning NaN', () => ({ ...ok(), rule: () => NaN }), 'E_VALUE', 'rule(responses[0])'],
  ['choice reference not a letter', () => ({ ...ok(), rule: 'choice', references: ['A', 'forty'] }), 'E_VALUE', 'references[1]'],
];

async function expectError(run: () => Promise<unknown> | unknown, code: string, argument: string) {
  try {
    await run();
    assert.unreachable('no error');
  } catch (e) {
    assert.instance(e, RewardkitError, String(e));
    const err = e as RewardkitError;
    assert.is(err.code, code, err.message);
    assert.is(err.argument, argument, err.message);
    assert.match(err.message, /Expected .+ but received /);
  }
}

for (const [name, make, code, argument] of cases) {
  test(`ruleRewards: ${name}`, () => expectError(() => ruleRewards(make() as RuleRewardsOptions), code, argument));
}

const combine = (): CombineRewardsOptions => ({
  responses: ['\\boxed{1}', 'x'], references: ['1', '1'],
  aspects: [{ name: 'acc', rule: 'math' }, { name: 'rm', scores: [0.5, 0.2] }],
});
const combineCases: Array<[string, () => unknown, string, string]> = [
  ['no aspects', () => ({ ...combine(), aspects: [] }), 'E_VALUE', 'aspects'],
  ['repeated names', () => ({ ...combine(), aspects: [{ name: 'a', scores: [1, 1] }, { name: 'a', scores: [1, 1] }] }), 'E_VALUE', 'aspects[1].name'],
  ['both scores and rule', () => ({ ...combine(), aspects: [{ name: 'a', scores: [1, 1], rule: 'math' }] }), 'E_VALUE', 'aspects[0]'],
  ['scores of the wrong length', () => ({ ...combine(), aspects: [{ name: 'a', scores: [1] }] }), 'E_SHAPE', 'aspects[0].scores'],
  ['NaN model score', () => ({ ...combine(), aspects: [{ name: 'a', scores: [1, NaN] }] }), 'E_VALUE', 'aspects[0].scores[1]'],
  ['bad weight', () => ({ ...combine(), aspects: [{ name: 'a', scores: [1, 1], weight: Infinity }] }), 'E_VALUE', 'aspects[0].weight'],
  ['bad gate', () => ({ ...combine(), aspects: [{ name: 'a', scores: [1, 1], gate: 'yes' }] }), 'E_VALUE', 'aspects[0].gate'],
  ['rule aspect without responses', () => ({ aspects: [{ name: 'a', rule: 'format' }] }), 'E_VALUE', 'responses'],
  ['zero weights normalised', () => ({ ...combine(), normalizeWeights: true, aspects: [{ name: 'a', scores: [1, 1], weight: 0 }] }), 'E_VALUE', 'aspects'],
];
for (const [name, make, code, argument] of combineCases) {
  test(`combineRewards: ${name}`, () => expectError(() => combineRewards(make() as CombineRewardsOptions), code, argument));
}

test('single-response functions reject non-strings', async () => {
  await expectError(() => extractAnswer(5 as unknown as string), 'E_DTYPE', 'response');
  await expectError(() => extractAnswer('x', 'middle' as 'auto'), 'E_VALUE', 'extract');
  await expectError(() => isEquivalent('1', null as unknown as string), 'E_DTYPE', 'reference');
  await expectError(() => isEquivalent('1', '1', -2), 'E_RANGE', 'tolerance');
  await expectError(() => normalizeAnswer({} as unknown as string), 'E_DTYPE', 'answer');
  await expectError(() => formatReward(undefined as unknown as string), 'E_DTYPE', 'response');
  await expectError(() => f1Score('a', [] as string[]), 'E_DTYPE', 'reference');
  await expectError(() => exactMatch('a', 'a', 'upper' as 'none'), 'E_VALUE', 'normalize');
  await expectError(() => extractChoice('A', 3 as unknown as string), 'E_DTYPE', 'letters');
});

test('combineRewards: weights, gates and fail values', async () => {
  const r = await combineRewards({
    responses: ['<think>\na\n</think>\n<answer>\n\\boxed{1}\n</answer>', '\\boxed{1}', '<think>\na\n</think>\n<answer>\n\\boxed{2}\n</answer>'],
    references: ['1', '1', '1'],
    aspects: [
      { name: 'accuracy', rule: 'math', weight: 2 },
      { name: 'format', rule: 'format', weight: 0, gate: { fail: -1 } },
      { name: 'rm', scores: [0.5, 0.25, 1], weight: 0.5 },
    ],
  });
  assert.equal([...r.rewards], [2.25, -1, 0.5]);
  assert.equal([...r.passed], [1, 0, 1]);
  assert.equal([...r.aspects.format!], [1, 0, 1]);
  const norm = await combineRewards({ aspects: [{ name: 'a', scores: [1, 0], weight: 3 }, { name: 'b', scores: [0, 1], weight: 1, gate: { min: 0.5 } }], normalizeWeights: true, failValue: -5 });
  assert.equal([...norm.rewards], [-5, 0.25]);
});

// Adversarial strings: each must be handled in linear time.
const N = 100_000;
const adversarial: Array<[string, string]> = [
  ['100k {', '{'.repeat(N)],
  ['100k }', '}'.repeat(N)],
  ['\\boxed{ repeated', '\\boxed{'.repeat(N / 7)],
  ['\\boxed{ repeated, then closed', '\\boxed{'.repeat(N / 7) + '}'.repeat(N / 7)],
  ['\\boxed 1 repeated', '\\boxed 1'.repeat(N / 8)],
  ['\\frac repeated', '\\boxed{' + '\\frac{'.repeat(N / 6) + '}'],
  ['nested frac', '\\boxed{' + '\\frac{1}{'.repeat(5000) + '2' + '}'.repeat(5001)],
  ['#### repeated', '#### '.repeat(N / 5)],
  ['#### -, repeated', '#### -,'.repeat(N / 7)],
  ['digits and commas', '1,'.repeat(N / 2)],
  ['dots', '.'.repeat(N)],
  ['digits', '9'.repeat(N)],
  ['spaces then answer', 'answer' + ' '.repeat(N) + 'x'],
  ['answer is repeated', 'answer is '.repeat(N / 10)],
  ['<think> repeated', '<think>\n'.repeat(N / 8)],
  ['</answer> repeated', '\n</answer>x'.repeat(N / 11)],
  ['middles repeated', '<think>\n' + '\n</think>\n<answer>\n'.repeat(N / 19)],
  ['<answer> repeated', '<answer>'.repeat(N / 8) + '</answer>'],
  ['text macro', '\\boxed{5 ' + '\\text{'.repeat(N / 6) + '}'],
  ['units words', '\\boxed{5' + ' m'.repeat(N / 2) + '}'],
  ['percent', '\\boxed{' + '%'.repeat(N) + '}'],
  ['parens', '\\boxed{' + '('.repeat(N) + '}'],
  ['long tuple', '\\boxed{(' + '1,'.repeat(N / 2) + '1)}'],
  ['equals', '\\boxed{' + '='.repeat(N) + '}'],
  ['sqrt', '\\boxed{' + '\\sqrt'.repeat(N / 5) + '}'],
  ['exponents', '\\boxed{' + '2^{'.repeat(N / 3) + '}'],
  ['minus signs', '\\boxed{' + '-'.repeat(N) + '1}'],
  ['whitespace', '\\boxed{5' + ' \t'.repeat(N / 2) + '}'],
  ['option letters', 'option '.repeat(N / 7) + 'B'],
  ['unicode', 'é'.repeat(N) + ' the a an'],
  ['\\text then spaces', '\\boxed{5 \\text{cm}' + ' '.repeat(N) + 'x}'],
  ['stars after Answer:', 'Answer: ' + '*'.repeat(N) + 'x'],
  ['stars', '*'.repeat(N) + 'x'],
  ['spaces in a box, then a letter', '\\boxed{' + ' '.repeat(N) + 'B x}'],
  ['answer: then spaces and dollars', 'answer:' + ' $'.repeat(N / 2) + 'q'],
  ['^ then spaces', '\\boxed{5' + '^ '.repeat(N / 2) + 'x}'],
  ['commas in a box', '\\boxed{' + '1,'.repeat(N / 2) + '}'],
];

test('adversarial long inputs: every verifier finishes fast (linear time)', () => {
  const modes = extractModes;
  let slowest = 0;
  for (const [name, s] of adversarial) {
    const t = performance.now();
    for (const mode of modes) extractAnswer(s, mode);
    const boxed = extractAnswer(s, 'boxed');
    if (boxed !== null) { isEquivalent(boxed, '5'); normalizeAnswer(boxed); }
    isEquivalent(s, s);
    extractChoice(s);
    formatReward(s, 'think-answer');
    formatReward(s, 'think');
    formatReward(s, 'tag-count');
    f1Score(s, 'the answer 5');
    exactMatch(s, 'x');
    const ms = performance.now() - t;
    // Linear work on 100 KB is ~ms; quadratic would be ~10 s. The bound allows a loaded 2-core VM.
    assert.ok(ms < 1500, `${name}: ${ms.toFixed(0)} ms`);
    slowest = Math.max(slowest, ms);
  }
  console.log(`  slowest adversarial input: ${slowest.toFixed(0)} ms`);
});

const pieces = ['\\boxed{', '\\fbox{', '{', '}', '\\frac', '\\dfrac', '\\sqrt', '\\text{', '\\left(', '\\right)', '####', ' ', '\n', '-', '.', ',', '%', '\\%',
  '$', '=', '^', '/', '1', '23', '0.5', 'e5', 'x', 'the', 'answer is', 'Answer:', '(B)', 'B', '<think>', '</think>', '<answer>', '</answer>', '\\pi', '\\cdot', '\\infty', 'cm', '°', '−', '1,000'];
const soup = fc.array(fc.constantFrom(...pieces), { maxLength: 40 }).map((a) => a.join(''));
const anyText = fc.oneof(fc.string({ maxLength: 200 }), fc.string({ unit: 'grapheme', maxLength: 100 }), soup);

test('fuzz: the single-response verifiers never throw on strings and return sane values', () => {
  fc.assert(fc.property(anyText, anyText, (a, b) => {
    for (const mode of extractModes) {
      const x = extractAnswer(a, mode);
      assert.ok(x === null || typeof x === 'string');
    }
    assert.type(isEquivalent(a, b), 'boolean');
    assert.is(isEquivalent(a, a), normalizeAnswer(a).length > 0);
    const f = f1Score(a, b);
    assert.ok(f >= 0 && f <= 1);
    for (const p of ['think-answer', 'think', 'tag-count'] as const) {
      const v = formatReward(a, p);
      assert.ok(v >= 0 && v <= 1);
    }
    const c = extractChoice(a);
    assert.ok(c === null || /^[A-J]$/.test(c));
  }), { numRuns: 1500, seed: 42 });
});

test('fuzz: ruleRewards gives finite scores or a RewardkitError, never anything else', async () => {
  const rule = fc.constantFrom('math', 'gsm8k', 'format', 'exact', 'f1', 'choice',
    { name: 'math', extract: 'auto' }, { name: 'math', extract: 'last-number' }, { name: 'exact', extract: 'answer-tag' });
  const junk = fc.oneof(anyText, fc.integer(), fc.constant(null), fc.constant(undefined), fc.array(anyText, { maxLength: 2 }));
  await fc.assert(fc.asyncProperty(fc.array(anyText, { maxLength: 6 }), fc.array(junk, { maxLength: 6 }), rule, async (responses, references, r) => {
    try {
      const out = await ruleRewards({ responses, references: references as string[], rule: r as 'math', workers: 0 });
      assert.is(out.scores.length, responses.length);
      for (const v of out.scores) assert.ok(Number.isFinite(v));
    } catch (e) {
      assert.instance(e, RewardkitError, String(e));
    }
  }), { numRuns: 400, seed: 7 });
});

test.run();
