/**
 * Rule verifiers against a hand-made table of tricky answers. Each row states the expected extraction
 * and/or equivalence verdict; the expectations follow verl (math.py strip_string, gsm8k.py), open-r1 /
 * TRL format rewards and the SQuAD script where they are defined, and docs/rules.md where we differ.
 * Numeric comparisons use the default tolerance (1e-6 relative) unless a row names another.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  extractAnswer, extractBoxed, extractChoice, extractGsm8k, extractLastNumber, isEquivalent, normalizeAnswer,
  formatReward, exactMatch, f1Score, normalizeText, ruleRewards, type ExtractMode, type FormatSpec, type ToleranceOption,
} from '../lib/index.js';

// [mode, response, expected answer]
const extraction: Array<[ExtractMode, string, string | null]> = [
  ['boxed', 'The answer is \\boxed{42}.', '42'],
  ['boxed', 'so $\\boxed{\\frac{1}{2}}$', '\\frac{1}{2}'],
  ['boxed', 'nested \\boxed{x^{2}+\\frac{a}{b}}', 'x^{2}+\\frac{a}{b}'],
  ['boxed', 'deep \\boxed{{{{1}}}}', '{{{1}}}'],
  ['boxed', 'first \\boxed{1} then \\boxed{2}', '2'],
  ['boxed', 'box in box \\boxed{\\boxed{7}}', '7'],
  ['boxed', '\\fbox{9} is framed', '9'],
  ['boxed', '\\boxed{3} and later \\fbox{4}', '4'],
  ['boxed', 'space form $\\boxed 5$', '5'],
  ['boxed', 'space form to end of line \\boxed 12\nmore text', '12'],
  ['boxed', 'truncated \\boxed{\\frac{1}{2}', null],
  ['boxed', 'truncated last, fine earlier \\boxed{1} \\boxed{2', null],
  ['boxed', 'no box at all: 42', null],
  ['boxed', '\\boxedx{5}', null],
  ['boxed', 'empty \\boxed{}', ''],
  ['boxed', 'set \\boxed{\\{1,2\\}}', '\\{1,2\\}'],
  ['boxed', 'text \\boxed{\\text{(B)}}', '\\text{(B)}'],
  ['gsm8k', 'She has 3 apples.\n#### 72', '72'],
  ['gsm8k', '#### 1,234', '1234'],
  ['gsm8k', 'so #### -5', '-5'],
  ['gsm8k', 'trailing dot #### 72.', '72'],
  ['gsm8k', 'decimal #### 3.50', '3.50'],
  ['gsm8k', '#### 1 and later #### 2', '2'],
  ['gsm8k', '##### 8 (five hashes)', '8'],
  ['gsm8k', 'no space ####72', null],
  ['gsm8k', '#### $72', null],
  ['gsm8k', 'no answer here', null],
  ['gsm8k', '#### 5 then #### words', '5'],
  ['gsm8k-flexible', 'I got 12 then 13.', '13'],
  ['gsm8k-flexible', 'total 1,000 dollars', '1000'],
  ['gsm8k-flexible', 'ends with dots 7...', '7'],
  ['gsm8k-flexible', 'temperature -3', '-3'],
  ['gsm8k-flexible', 'nothing numeric.', null],
  ['last-number', 'costs $1,234.50 in total.', '1234.50'],
  ['last-number', 'x=-5', '-5'],
  ['last-number', 'pages 3-5', '5'],
  ['last-number', 'small 1.5e-3 m', '1.5e-3'],
  ['last-number', 'ratio 3/4', '3/4'],
  ['last-number', 'half is .5', '0.5'],
  ['last-number', 'version 2, then 10,000,000 people', '10000000'],
  ['last-number', 'bad groups 12,34', '34'],
  ['last-number', 'no digits', null],
  ['answer-tag', '<think>\nhmm\n</think>\n<answer>\n 17 \n</answer>', '17'],
  ['answer-tag', '<answer>1</answer> <answer>2</answer>', '2'],
  ['answer-tag', '<answer>unclosed', null],
  ['auto', '<answer>The value is \\boxed{8}</answer>', '8'],
  ['auto', '<answer>8 apples</answer>', '8 apples'],
  ['auto', 'work... #### 64', '64'],
  ['auto', 'Thus the answer is $\\frac{3}{5}$.', '\\frac{3}{5}'],
  ['auto', 'Answer: **12**', '12'],
  ['auto', 'we get 3 then 4', '4'],
  ['auto', 'nothing', null],
  ['none', '  plain text  ', 'plain text'],
];

// [answer, reference, equivalent?, tolerance]
const equivalence: Array<[string, string, boolean, ToleranceOption?]> = [
  ['42', '42', true],
  ['42', '43', false],
  ['\\frac{1}{2}', '0.5', true],
  ['\\dfrac{1}{2}', '\\frac12', true],
  ['\\tfrac{3}{4}', '0.75', true],
  ['\\frac{1}{2}', '1/2', true],
  ['\\dfrac12', '1/2', true],
  ['\\frac1{72}', '\\frac{1}{72}', true],
  ['\\frac{\\frac{1}{2}}{2}', '0.25', true],
  ['-\\frac{3}{4}', '-0.75', true],
  ['\\frac{-3}{4}', '-3/4', true],
  ['\\frac{3}{-4}', '-0.75', true],
  ['−5', '-5', true], // U+2212 minus
  ['-5', '5', false],
  ['- 5', '-5', true],
  ['1,000', '1000', true],
  ['1,234,567', '1234567', true],
  ['1{,}000', '1000', true],
  ['1\\,000', '1000', true],
  ['10,5', '105', false], // not a thousands group: stays "10,5"
  ['50\\%', '50', true], // verl drops \%
  ['50%', '0.5', true],
  ['0.5', '50\\%', true],
  ['50 percent', '50%', true],
  ['25\\%', '0.5', false],
  ['10 \\text{ cm}', '10', true],
  ['10\\text{cm}', '10', true],
  ['5 apples', '5', true],
  ['5cm', '5', true],
  ['12 \\mbox{ inches}', '12', true],
  ['3 \\text{ cm}^2', '3', true],
  ['7 m/s', '7', true],
  ['2x', '2', false], // a variable is not a unit
  ['\\text{Monday}', 'Monday', true],
  ['\\text{(B)}', '(B)', true],
  ['90^\\circ', '90', true],
  ['90^{\\circ}', '90', true],
  ['90°', '90', true],
  ['\\$18', '18', true],
  ['$18$', '18', true],
  ['18 dollars', '18', true],
  ['\\left( 1, 2 \\right)', '(1,2)', true],
  ['(1, 2)', '(1,2.0)', true],
  ['(1, 2)', '(2, 1)', false],
  ['[0, \\frac{1}{2})', '[0,0.5)', true],
  ['[0, 1)', '(0, 1)', false],
  ['x = 5', '5', true],
  ['k=3', '3', true],
  ['xyz = 5', '5', false], // verl keeps a left side longer than two characters
  ['2.50', '2.5', true],
  ['2.0', '2', true],
  ['007', '7', true],
  ['.5', '0.5', true],
  ['-.5', '-0.5', true],
  ['5.', '5', true],
  ['1e5', '100000', true],
  ['1.5\\times10^{3}', '1500', true],
  ['1.5 \\cdot 10^3', '1500', true],
  ['2^{10}', '1024', true],
  ['2^10', '1024', false], // LaTeX reads 2^10 as 2¹0: ambiguous, not a number
  ['\\sqrt{2}', '1.41421356', true],
  ['\\sqrt2', '\\sqrt{2}', true],
  ['2\\sqrt{3}', '3.46410162', true],
  ['\\sqrt[3]{27}', '3', true],
  ['3\\pi', '9.42477796', true],
  ['\\pi', '3.14', false],
  ['\\pi', '3.14', true, 1e-3],
  ['2\\frac{1}{2}', '5/2', true], // mixed number
  ['-2\\frac{1}{2}', '-2.5', true],
  ['0.333', '\\frac13', false],
  ['0.333333', '\\frac13', true],
  ['0.333', '\\frac13', true, { abs: 0.001 }],
  ['1000001', '1000000', false], // integers compare exactly by default
  ['1000001', '1000000', false, { rel: 1e-5 }],
  ['1000001', '1000000', true, { rel: 1e-5, exactIntegers: false }],
  ['1000000.5', '1000000', true], // within 1e-6 relative
  ['50\%', '0.4999999', true],
  ['1e-12', '0', false],
  ['0', '-0', true],
  ['\\infty', '\\infty', true],
  ['\\infty', '10^{400}', false],
  ['x+1', 'x+1', true],
  ['x + 1', 'x+1', true],
  ['x+1', '1+x', false], // no symbolic algebra
  ['\\frac{a}{b}', '\\dfrac{a}{b}', true],
  ['', '', false],
  ['', '0', false],
  ['yes', 'Yes', false],
  ['\\displaystyle\\frac{2}{3}', '2/3', true],
  ['\\$1,234.50', '1234.5', true],
  ['1 000', '1000', true],
  ['\\left[ 2, 3 \\right]', '[2,3]', true],
  ['\\frac{1}{0}', '\\infty', false],
];

// [response, format, expected]
const formats: Array<[string, FormatSpec, number]> = [
  ['<think>\nsteps\n</think>\n<answer>\n42\n</answer>', 'think-answer', 1],
  ['<think>\nsteps\n</think>\n<answer>\n42\n</answer>\n', 'think-answer', 1], // MULTILINE $ before \n
  ['<think>\nsteps\n</think>\n<answer>\n42\n</answer>\ntrailing', 'think-answer', 1], // ... any \n
  ['<think>\nsteps\n</think>\n<answer>\n42\n</answer> trailing', 'think-answer', 0],
  ['<think>\n</think>\n<answer>\n42\n</answer>', 'think-answer', 0], // needs '\n' twice
  ['<think>\n\n</think>\n<answer>\n\n</answer>', 'think-answer', 1],
  [' <think>\nx\n</think>\n<answer>\ny\n</answer>', 'think-answer', 0],
  ['<think>x</think><answer>y</answer>', 'think-answer', 0],
  ['<think>\na\n</think>\nb\n</think>\n<answer>\nc\n</answer>', 'think-answer', 1],
  ['<think>reasoning</think> answer', 'think', 1],
  ['<think>a<think>b</think>', 'think', 0],
  ['no think', 'think', 0],
  ['<think>unclosed', 'think', 0],
  ['<think>\nx\n</think>\n<answer>\ny\n</answer>', 'tag-count', 1],
  ['<think>\nx\n</think>\n', 'tag-count', 0.5],
  ['<think>\n<think>\nx\n</think>\n<answer>\ny\n</answer>', 'tag-count', 0.75],
  ['Final: 42', { pattern: '^Final: \\d+$' }, 1],
  ['final: 42', { pattern: '^final: \\d+$', flags: 'i' }, 1],
  ['Final: x', { pattern: '^Final: \\d+$' }, 0],
];

// [response, expected letter]
const choices: Array<[string, string | null]> = [
  ['The answer is (B)', 'B'],
  ['The answer is B.', 'B'],
  ['Answer: C', 'C'],
  ['**Answer:** **D**', 'D'],
  ['\\boxed{B}', 'B'],
  ['so \\boxed{(C)}', 'C'],
  ['\\boxed{\\text{A}}', 'A'],
  ['B.', 'B'],
  ['(d)', 'D'],
  [' A ', 'A'],
  ['the answer is a bit long', null],
  ['The answer is (b)', 'B'],
  ['The correct answer would be E', 'E'],
  ['The answer is (B) because option C is wrong', 'B'],
  ['I pick option C', 'C'],
  ['The answer is Z', null], // not a choice letter
  ['nothing here', null],
  ['Answered: maybe', null],
];

for (const [mode, response, expected] of extraction) {
  test(`extract ${mode}: ${JSON.stringify(response)}`, () => {
    assert.is(extractAnswer(response, mode), expected);
  });
}

for (const [answer, reference, expected, tol] of equivalence) {
  test(`${JSON.stringify(answer)} ${expected ? '≡' : '≢'} ${JSON.stringify(reference)}${tol !== undefined ? ` (tolerance ${JSON.stringify(tol)})` : ''}`, () => {
    assert.is(isEquivalent(answer, reference, tol), expected, `normalised ${JSON.stringify(normalizeAnswer(answer))} vs ${JSON.stringify(normalizeAnswer(reference))}`);
    assert.is(isEquivalent(reference, answer, tol), expected, 'symmetric');
  });
}

for (const [response, format, expected] of formats) {
  test(`format ${JSON.stringify(format)}: ${JSON.stringify(response)}`, () => {
    assert.is(formatReward(response, format), expected);
  });
}

for (const [response, expected] of choices) {
  test(`choice: ${JSON.stringify(response)}`, () => {
    assert.is(extractChoice(response, 'ABCDE'), expected);
  });
}

test('format presets agree with the reference regexes on random tag soup', () => {
  // The Python patterns in JS syntax: `.` with s (DOTALL); MULTILINE `$` is (?=\n|$(?![\s\S])).
  const openR1 = /^<think>\n[\s\S]*?\n<\/think>\n<answer>\n[\s\S]*?\n<\/answer>(?=\n|$)/;
  const trl = /^<think>(?![\s\S]*<think>)[\s\S]*?<\/think>[\s\S]*$/;
  const pieces = ['<think>', '</think>', '<answer>', '</answer>', '\n', 'x', ' '];
  let seed = 7;
  const rand = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32);
  for (let k = 0; k < 5000; k++) {
    let s = k % 2 ? '<think>\n' : '';
    const len = Math.floor(rand() * 14);
    for (let j = 0; j < len; j++) s += pieces[Math.floor(rand() * pieces.length)];
    assert.is(formatReward(s, 'think-answer'), openR1.test(s) ? 1 : 0, JSON.stringify(s));
    assert.is(formatReward(s, 'think'), trl.test(s) ? 1 : 0, JSON.stringify(s));
  }
});

test('gsm8k strict and flexible', () => {
  assert.is(extractGsm8k('a 1 b 2', 'flexible'), '2');
  assert.is(extractGsm8k('a 1 b 2', 'strict'), null);
  assert.is(extractBoxed('x'), null);
  assert.is(extractLastNumber('a -0.25'), '-0.25');
});

test('SQuAD normalisation and F1', () => {
  assert.is(normalizeText('The  Quick, brown fox!'), 'quick brown fox');
  assert.is(normalizeText('an apple a day'), 'apple day');
  assert.is(normalizeText('théa a'), 'théa'); // Unicode word boundary, as Python's \b
  assert.is(normalizeText('the…end'), '…end'); // '…' is not ASCII punctuation but ends the word 'the'
  assert.is(f1Score('The cat sat', 'a cat sat down'), 0.8);
  assert.is(f1Score('cat cat', 'cat'), 2 / 3);
  assert.is(f1Score('dog', 'cat'), 0);
  assert.is(f1Score('', ''), 1); // SQuAD v2: both empty
  assert.is(f1Score('the', 'a'), 1); // both normalise to nothing
  assert.is(f1Score('', 'cat'), 0);
  assert.is(f1Score('cat', ['dog', 'a cat']), 1);
  assert.ok(exactMatch('The Answer.', 'answer'));
  assert.not.ok(exactMatch('The Answer.', 'answer', 'trim'));
  assert.ok(exactMatch(' x ', 'x', 'trim'));
  assert.not.ok(exactMatch(' x ', 'x', 'none'));
});

test('ruleRewards: math, gsm8k, exact, choice, f1, format, values and details', async () => {
  const math = await ruleRewards({
    responses: ['\\boxed{\\frac{1}{2}}', 'the answer is 0.5', '\\boxed{0.4}', '\\boxed{5}'],
    references: ['0.5', '0.5', '0.5', ['4', '5.0']], rule: 'math', details: true,
  });
  assert.equal([...math.scores], [1, 0, 0, 1]);
  assert.equal(math.answers, ['\\frac{1}{2}', null, '0.4', '5']);
  const auto = await ruleRewards({ responses: ['the answer is 0.5'], references: ['1/2'], rule: { name: 'math', extract: 'auto' } });
  assert.equal([...auto.scores], [1]);
  const values = await ruleRewards({
    responses: ['\\boxed{1}', '\\boxed{2}', 'none'], references: ['1', '1', '1'],
    rule: { name: 'math', values: { correct: 1, incorrect: 0.1, missing: -1 } },
  });
  assert.equal([...values.scores], [1, Math.fround(0.1), -1]);
  const gsm = await ruleRewards({ responses: ['so #### 72.', '#### 7,200', 'no'], references: ['Janet... #### 72', '7200', '1'], rule: 'gsm8k' });
  assert.equal([...gsm.scores], [1, 1, 0]);
  const exact = await ruleRewards({ responses: ['<answer>Paris</answer>', '<answer>the paris!</answer>', 'London'], references: ['paris', 'Paris', 'Paris'], rule: { name: 'exact', extract: 'answer-tag' } });
  assert.equal([...exact.scores], [1, 1, 0]);
  const choice = await ruleRewards({ responses: ['The answer is (B)', '\\boxed{C}', 'unsure'], references: ['B', '(B)', ['A', 'C']], rule: 'choice' });
  assert.equal([...choice.scores], [1, 0, 0]);
  const f1 = await ruleRewards({ responses: ['cat sat', 'x'], references: ['the cat sat', 'y'], rule: 'f1' });
  assert.equal([...f1.scores], [1, 0]);
  const format = await ruleRewards({ responses: ['<think>\na\n</think>\n<answer>\nb\n</answer>', 'b'], rule: 'format' });
  assert.equal([...format.scores], [1, 0]);
  const custom = await ruleRewards({ responses: ['ab', 'abc'], rule: (r) => r.length });
  assert.equal([...custom.scores], [2, 3]);
  const tol = await ruleRewards({ responses: ['\\boxed{3.14}'], references: ['\\pi'], rule: 'math', tolerance: 1e-3 });
  assert.equal([...tol.scores], [1]);
  const empty = await ruleRewards({ responses: [], references: [], rule: 'math' });
  assert.is(empty.scores.length, 0);
});

test.run();
