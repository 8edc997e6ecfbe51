/**
 * The single-pass tokeniser and F1 of lib/rules/f1.ts against the regex implementation they replaced
 * (copied below as the oracle): identical token lists, bit-identical F1 and the same SQuAD exact match,
 * on the rule tests' cases, the bench corpus' shape and fast-check strings over an alphabet biased to
 * separators, punctuation, articles and the non-ASCII characters where the ASCII pass must give up.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fc from 'fast-check';
import { tokens, f1, exactMatchSquad } from '../lib/rules/f1.js';

// ---- Oracle: lib/rules/f1.ts before the single pass, verbatim but for the names. ----
const punctuation = /[!"#$%&'()*+,\-./:;<=>?@[\\\]^_`{|}~]/g;
const articles = /(?<![\p{L}\p{N}_])(?:a|an|the)(?![\p{L}\p{N}_])/gu;
const whitespace = /[\t-\r\x1c-\x20\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+/;
const plainAscii = /^[\t-\r\x1c-\x7e]*$/;
const asciiWhitespace = /[\t-\r\x1c-\x20]+/;

function oldTokens(text: string): string[] {
  let out: string[];
  if (plainAscii.test(text)) {
    out = text.toLowerCase().replace(punctuation, '').split(asciiWhitespace).filter((t) => t !== 'a' && t !== 'an' && t !== 'the' && t !== '');
    return out;
  }
  out = text.toLowerCase().replace(punctuation, '').replace(articles, ' ').split(whitespace);
  if (out.length && out[0] === '') out.shift();
  if (out.length && out[out.length - 1] === '') out.pop();
  return out;
}

function oldF1Tokens(pred: string[], ref: string[]): number {
  if (pred.length === 0 || ref.length === 0) return pred.length === ref.length ? 1 : 0;
  const counts = new Map<string, number>();
  for (const t of ref) counts.set(t, (counts.get(t) ?? 0) + 1);
  let same = 0;
  for (const t of pred) {
    const c = counts.get(t);
    if (c) { same++; counts.set(t, c - 1); }
  }
  if (same === 0) return 0;
  const precision = same / pred.length, recall = same / ref.length;
  return (2 * precision * recall) / (precision + recall);
}

function oldF1(prediction: string, references: readonly string[]): number {
  const pred = oldTokens(prediction);
  let best = 0;
  for (const r of references) best = Math.max(best, oldF1Tokens(pred, oldTokens(r)));
  return best;
}

function oldExactMatchSquad(prediction: string, references: readonly string[]): boolean {
  const p = oldTokens(prediction).join(' ');
  return references.some((r) => oldTokens(r).join(' ') === p);
}
// ---- End of the oracle. ----

/** Same tokens, bit-identical F1 (Object.is) and the same exact match as the oracle, with a message naming the input. */
function check(prediction: string, references: readonly string[]): void {
  const show = JSON.stringify([prediction.length > 200 ? prediction.slice(0, 200) + '…' : prediction, references]);
  assert.equal(tokens(prediction), oldTokens(prediction), `tokens of ${show}`);
  for (const r of references) assert.equal(tokens(r), oldTokens(r), `tokens of the reference in ${show}`);
  const got = f1(prediction, references), want = oldF1(prediction, references);
  assert.ok(Object.is(got, want), `f1 ${got} ≠ ${want} for ${show}`);
  assert.is(exactMatchSquad(prediction, references), oldExactMatchSquad(prediction, references), `exact match of ${show}`);
}

// The normalizeText, f1Score and ruleRewards cases of test/rules.test.ts and inputs in the shape of the rule fuzz tests.
const ruleCases: Array<[string, string[]]> = [
  ['The  Quick, brown fox!', ['quick brown fox']],
  ['an apple a day', ['apple day']],
  ['théa a', ['théa']],
  ['the…end', ['…end']],
  ['The cat sat', ['a cat sat down']],
  ['cat cat', ['cat']],
  ['dog', ['cat']],
  ['', ['']],
  ['the', ['a']],
  ['', ['cat']],
  ['cat', ['dog', 'a cat']],
  ['cat sat', ['the cat sat']],
  ['x', ['y']],
  ['a', ['the answer 5']],
  ['\\boxed{\\frac{1}{2}}', ['\\frac{1}{2}', '0.5']],
  ['The answer is (B), the value \\boxed{42}.\n#### 42', ['42']],
  ['A. An. THE! t.h.e a-n', ['']],
  ["don't stop—the end", ["dont stop the end"]],
  ['İstanbul ß ﬁle Σίσυφος', ['istanbul ss file σίσυφος']],
  ['\x1cthe\x1dcat\x1e\x1f\x0b\x0cA', ['cat']],
  ['the\x7fcat a\x00b', ['cat']],
  ['\u00a0the\u2003cat\u00a0', ['cat']],
];

test('rule test cases: the same tokens, F1 and exact match as the regex implementation', () => {
  for (const [p, refs] of ruleCases) {
    check(p, refs);
    for (const r of refs) check(r, [p]);
  }
});

test('long inputs (as the rule fuzz tests): the same results', () => {
  const N = 20_000;
  const long = [
    'é'.repeat(N) + ' the a an', ' '.repeat(N) + 'x', '*'.repeat(N) + 'x', 'the '.repeat(N / 4), 'A. '.repeat(N / 3),
    '1,'.repeat(N / 2), ' \t'.repeat(N / 2) + 'cat', 'word '.repeat(N / 5) + 'é',
  ];
  for (const s of long) { check(s, ['the answer 5']); check(s, [s.slice(0, 40)]); }
});

test('bench-shaped ~1 KB responses: the same F1 against short and long references', () => {
  const sentences = [
    'First, compute the total cost of the apples and the pears. ', 'Then subtract what was already paid, which is $1,250. ',
    'Let x be the number of hours; then 3x + 5 = 20. ', 'So the ratio is \\frac{3}{4} of the original amount. ',
    'Checking the units again gives the same result. ',
  ];
  for (let i = 0; i < 200; i++) {
    let body = '';
    for (let k = 0; body.length < 900; k++) body += sentences[(i * 7 + k * k) % sentences.length];
    const response = `<think>\n${body}\n</think>\n<answer>\nThe answer is (B), the value \\boxed{${i}}.\n#### ${i}\n</answer>`;
    check(response, [String(i)]);
    check(response, [`\\frac{${i}}{4}`, String(i + 1)]);
    check(response, [sentences[i % 5]!]);
    check(response, [sentences.join('')]); // over 16 tokens: the Map path
  }
});

/** Pieces biased to what the tokeniser must get right; the last ones leave plain ASCII. */
const pieces = [
  ...'abcxyzABCXYZ0189', ...'!"#$%&\'()*+,-./:;<=>?@[\\]^_`{|}~', ...' \t\n\r\x0b\x0c\x1c\x1d\x1e\x1f',
  'a', 'an', 'the', 'The', 'THE', 'A.', 'An', "'", "a'", "the'", 'tHe', ' a ', ' the ', 'cat', 'Cat',
  'é', 'İ', 'ß', '\u00a0', '\u2003', 'ﬁ', 'Σ', 'ς', 'α', '\x85', '\x7f', '\x00',
];
const text = (maxLength: number) => fc.array(fc.constantFrom(...pieces), { maxLength }).map((a) => a.join(''));
const asciiText = (maxLength: number) => fc.array(fc.constantFrom(...pieces.slice(0, pieces.indexOf('é'))), { maxLength }).map((a) => a.join(''));

test('fast-check: tokens identical to the regex implementation', () => {
  fc.assert(fc.property(fc.oneof(text(60), asciiText(60), fc.string({ maxLength: 40 })), (s) => {
    assert.equal(tokens(s), oldTokens(s), JSON.stringify(s));
  }), { numRuns: 10000, seed: 606 });
});

test('fast-check: F1 bit-identical and exact match the same, one or several references, short and long', () => {
  const refs = fc.array(fc.oneof(text(8), asciiText(8), asciiText(60), text(60)), { minLength: 1, maxLength: 3 });
  fc.assert(fc.property(fc.oneof(asciiText(200), text(200), asciiText(20)), refs, (p, r) => check(p, r)), { numRuns: 10000, seed: 607 });
});

test.run();
