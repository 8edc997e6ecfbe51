/**
 * SQuAD answer normalisation and token-level F1 (the official SQuAD v2 evaluation script; verl's
 * search-R1 exact match uses the same normalize_answer).
 */
import { checkText, checkReference } from './check.js';

/** Python's string.punctuation (ASCII only, as the script). */
const punctuation = /[!"#$%&'()*+,\-./:;<=>?@[\\\]^_`{|}~]/g;
/** Python's `\b(a|an|the)\b` on str: word characters are Unicode letters, numbers and '_'. */
const articles = /(?<![\p{L}\p{N}_])(?:a|an|the)(?![\p{L}\p{N}_])/gu;
/** Python's str.split() separators (Unicode whitespace, including \x1c-\x1f and \x85). */
const whitespace = /[\t-\r\x1c-\x20\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+/;

/** lower → drop punctuation → drop articles → collapse whitespace (normalize_answer). */
export function normalizeText(text: string): string {
  checkText(text, 'text');
  return tokens(text).join(' ');
}

/** Printable ASCII and ASCII whitespace only: every character is a separator, punctuation or a word character. */
const plainAscii = /^[\t-\r\x1c-\x7e]*$/;
const asciiWhitespace = /[\t-\r\x1c-\x20]+/;

function tokens(text: string): string[] {
  let out: string[];
  if (plainAscii.test(text)) {
    // Here `\b(a|an|the)\b` can only match whole tokens, so dropping them is the same (and 2× faster).
    out = text.toLowerCase().replace(punctuation, '').split(asciiWhitespace).filter((t) => t !== 'a' && t !== 'an' && t !== 'the' && t !== '');
    return out;
  }
  out = text.toLowerCase().replace(punctuation, '').replace(articles, ' ').split(whitespace);
  if (out.length && out[0] === '') out.shift();
  if (out.length && out[out.length - 1] === '') out.pop();
  return out;
}

/** F1 of token overlap; when either side normalises to nothing, 1 if both do, else 0 (SQuAD v2). */
function f1Tokens(pred: string[], ref: string[]): number {
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

/** Token F1 of `prediction` against one reference, or the best over several. */
export function f1Score(prediction: string, reference: string | readonly string[]): number {
  checkText(prediction, 'prediction');
  return f1(prediction, checkReference(reference, 'reference'));
}

/** f1Score without the checks, for the batch loops. */
export function f1(prediction: string, references: readonly string[]): number {
  const pred = tokens(prediction);
  let best = 0;
  for (const r of references) best = Math.max(best, f1Tokens(pred, tokens(r)));
  return best;
}

/** SQuAD exact match: equal after normalize_answer (best over several references). */
export function exactMatchSquad(prediction: string, references: readonly string[]): boolean {
  const p = tokens(prediction).join(' ');
  return references.some((r) => tokens(r).join(' ') === p);
}
