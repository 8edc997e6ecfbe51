/** Exact match and multiple-choice letters. */
import { checkText, checkReference } from './check.js';
import { describe, fail } from '../errors.js';
import { exactMatchSquad } from './f1.js';
import { extractBoxed, trimChars } from './extract.js';

/** `squad`: SQuAD normalize_answer; `trim`: surrounding whitespace only; `none`: byte-equal. */
export type MatchNormalization = 'squad' | 'trim' | 'none';
export const matchNormalizations: readonly MatchNormalization[] = ['squad', 'trim', 'none'];

/** Whether `prediction` equals the reference (or one of several) after the normalisation. */
export function exactMatch(prediction: string, reference: string | readonly string[], normalize: MatchNormalization = 'squad'): boolean {
  checkText(prediction, 'prediction');
  const refs = checkReference(reference, 'reference');
  if (!matchNormalizations.includes(normalize)) fail('E_VALUE', 'normalize', "'squad', 'trim' or 'none'", describe(normalize));
  return matches(prediction, refs, normalize);
}

export function matches(prediction: string, references: readonly string[], normalize: MatchNormalization): boolean {
  if (normalize === 'squad') return exactMatchSquad(prediction, references);
  if (normalize === 'trim') { const p = prediction.trim(); return references.some((r) => r.trim() === p); }
  return references.includes(prediction);
}

const isLetter = (c: number) => (c >= 65 && c <= 90) || (c >= 97 && c <= 122);

/** A bare choice: `B`, `(B)`, `B.`, `B)`, `**B**`, `\text{B}`, `Option B`; the letter or null. */
function bareChoice(s: string, letters: string): string | null {
  let t = trimChars(s.trim().replace(/\\text\{([^{}]*)\}/g, '$1'), '* \t\n\r', '* \t\n\r');
  t = t.replace(/^(?:option|choice)\s+/i, '');
  const m = /^\(?([A-Za-z])\)?[.:)]?$/.exec(t);
  if (!m) return null;
  const letter = m[1]!.toUpperCase();
  return letters.includes(letter) ? letter : null;
}

const triggers = /answer|choice|option/gi;
const links = ['is', 'would be', 'should be', 'will be', 'must be'];

/**
 * The letter after the last answer phrase: "answer is", "answer:", "choice is", "correct option would
 * be" (linked), then `(B)` or `B` followed by a non-letter. A bare "option B" counts only when no
 * linked phrase gives a letter. A lowercase letter counts only in parentheses ("the answer is a bit
 * long" is not A).
 */
function triggeredChoice(s: string, letters: string): string | null {
  let linked: string | null = null, bare: string | null = null;
  triggers.lastIndex = 0;
  for (let m = triggers.exec(s); m; m = triggers.exec(s)) {
    let i = m.index + m[0].length;
    if (s[i] === 's') i++; // "options", "choices"
    if (i < s.length && isLetter(s.charCodeAt(i))) continue; // "answered"
    let link = false;
    const skip = () => {
      while (i < s.length && (s[i] === ' ' || s[i] === '*' || s[i] === ':' || s[i] === '\t' || s[i] === '$')) { if (s[i] === ':') link = true; i++; }
    };
    skip();
    for (const word of links) {
      if (s.startsWith(word, i) && !isLetter(s.charCodeAt(i + word.length))) { i += word.length; link = true; skip(); break; }
    }
    const paren = s[i] === '(';
    if (paren) i++;
    const c = s.charCodeAt(i);
    if (!isLetter(c)) continue;
    const upper = c >= 65 && c <= 90;
    if (paren ? s[i + 1] !== ')' : !upper || isLetter(s.charCodeAt(i + 1))) continue;
    const letter = s[i]!.toUpperCase();
    if (!letters.includes(letter)) continue;
    if (link) linked = letter; else bare = letter;
  }
  return linked ?? bare;
}

/**
 * The multiple-choice letter of a response: from the last `\boxed{}` (`\boxed{B}`, `\boxed{(B)}`,
 * `\boxed{\text{B}}`), else after the last answer phrase ("The answer is (B)", "Answer: B"), else a
 * response that is only a letter ("B.", "(B)"). null when none of them gives a letter in `letters`.
 */
export function extractChoice(response: string, letters = 'ABCDEFGHIJ'): string | null {
  checkText(response, 'response');
  checkText(letters, 'letters');
  return choice(response, letters.toUpperCase());
}

export function choice(response: string, letters: string): string | null {
  const boxed = extractBoxed(response);
  if (boxed !== null) {
    const b = bareChoice(boxed, letters);
    if (b) return b;
  }
  return triggeredChoice(response, letters) ?? bareChoice(response, letters);
}
