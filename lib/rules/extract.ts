/**
 * Answer extraction from a model response. Every function is a linear scan (indexOf loops and
 * hand-written loops, no backtracking regex), so adversarial inputs such as 100k '{' cost O(n).
 */
import { checkText } from './check.js';
import { fail, describe } from '../errors.js';

/** How the answer is taken out of a response (see docs/rules.md). */
export type ExtractMode = 'boxed' | 'gsm8k' | 'gsm8k-flexible' | 'last-number' | 'answer-tag' | 'auto' | 'none';
export const extractModes: readonly ExtractMode[] = ['boxed', 'gsm8k', 'gsm8k-flexible', 'last-number', 'answer-tag', 'auto', 'none'];

const isDigit = (c: number) => c >= 48 && c <= 57; // 0-9

/**
 * The last index of `needle` in `s`, or -1. V8's lastIndexOf is a naive backward scan (about 4 µs per
 * KB when the needle is absent); a forward indexOf loop uses the fast search and stays linear.
 */
export function lastIndex(s: string, needle: string, before = s.length): number {
  let at = -1;
  for (let j = s.indexOf(needle); j >= 0 && j + needle.length <= before; j = s.indexOf(needle, j + 1)) at = j;
  return at;
}
const isSpace = (c: number) => c === 32 || c === 9;

/**
 * The content of the last `\boxed{...}` or `\fbox{...}` (nested braces matched), or of the space form
 * `\boxed 5` (up to `$` or the end of the line). null when there is none or when the last one is
 * unbalanced (a truncated response), as verl's last_boxed_only_string + remove_boxed.
 */
export function extractBoxed(response: string): string | null {
  checkText(response, 'response');
  const boxed = lastIndex(response, '\\boxed'), fbox = lastIndex(response, '\\fbox');
  if (boxed < 0 && fbox < 0) return null;
  const start = boxed > fbox ? boxed + 6 : fbox + 5;
  let i = start;
  while (i < response.length && isSpace(response.charCodeAt(i))) i++;
  if (response.charCodeAt(i) === 123 /* { */) {
    let depth = 0;
    for (let j = i; j < response.length; j++) {
      const c = response.charCodeAt(j);
      if (c === 123) depth++;
      else if (c === 125 /* } */ && --depth === 0) return response.slice(i + 1, j);
    }
    return null;
  }
  if (i === start) return null; // `\boxedx`: not a box
  let end = i;
  while (end < response.length) {
    const c = response.charCodeAt(end);
    if (c === 36 /* $ */ || c === 10 /* \n */) break;
    end++;
  }
  const a = response.slice(i, end).trim();
  return a.length ? a : null;
}

/** The content of the last `<answer>...</answer>` (trimmed), or null. */
export function extractAnswerTag(response: string): string | null {
  checkText(response, 'response');
  const close = lastIndex(response, '</answer>');
  if (close < 0) return null;
  const open = lastIndex(response, '<answer>', close);
  if (open < 0) return null;
  return response.slice(open + 8, close).trim();
}

/**
 * Strips leading characters in `head` and trailing ones in `tail`. A regex such as /[*\s]+$/ is
 * quadratic on a long run that does not reach the end; this loop is linear.
 */
export function trimChars(s: string, head: string, tail: string): string {
  let a = 0, b = s.length;
  while (a < b && head.includes(s[a]!)) a++;
  while (b > a && tail.includes(s[b - 1]!)) b--;
  return s.slice(a, b);
}

/** `[0-9.,]` */
const isNumChar = (c: number) => isDigit(c) || c === 46 || c === 44;

/** Removes commas and the sentence-ending dots verl keeps ("72." → "72"); null when no digit is left. */
function cleanNumber(raw: string): string | null {
  let s = raw.replace(/,/g, '');
  let end = s.length;
  while (end > 0 && s.charCodeAt(end - 1) === 46) end--;
  s = s.slice(0, end);
  for (let i = 0; i < s.length; i++) if (isDigit(s.charCodeAt(i))) return s;
  return null;
}

/**
 * GSM8K style `#### 72`: verl's gsm8k.extract_solution. `strict` takes the last `#### ` followed by
 * `-?[0-9.,]+`; `flexible` the last run of `-?[0-9.,]+` anywhere. Commas and trailing dots are removed.
 */
export function extractGsm8k(response: string, method: 'strict' | 'flexible' = 'strict'): string | null {
  checkText(response, 'response');
  if (method !== 'strict' && method !== 'flexible') fail('E_VALUE', 'method', "'strict' or 'flexible'", describe(method));
  if (method === 'flexible') {
    // Runs of [0-9.,] from the end; the first one holding a digit wins (verl skips only '.').
    let i = response.length;
    while (i > 0) {
      while (i > 0 && !isNumChar(response.charCodeAt(i - 1))) i--;
      const end = i;
      while (i > 0 && isNumChar(response.charCodeAt(i - 1))) i--;
      if (end === i) break;
      const negative = i > 0 && response.charCodeAt(i - 1) === 45; // -
      const n = cleanNumber(response.slice(i, end));
      if (n !== null) return negative ? '-' + n : n;
    }
    return null;
  }
  // The last `#### ` followed by a number (candidates cannot overlap: a number follows the space).
  let found: string | null = null;
  for (let hit = response.indexOf('#### '); hit >= 0; hit = response.indexOf('#### ', hit + 1)) {
    let i = hit + 5;
    const negative = response.charCodeAt(i) === 45;
    if (negative) i++;
    let end = i;
    while (end < response.length && isNumChar(response.charCodeAt(end))) end++;
    if (end === i) continue;
    // verl would return a match without a digit ("#### ."); it can never equal a number: null.
    const n = cleanNumber(response.slice(i, end));
    found = n === null ? null : negative ? '-' + n : n;
    hit = end - 1;
  }
  return found;
}

/**
 * The last number in the text: `-1,234.5`, `.5`, `3/4`, `1.5e-3`; thousands commas removed. null
 * when there is no digit.
 */
export function extractLastNumber(response: string): string | null {
  checkText(response, 'response');
  let end = response.length;
  while (end > 0 && !isDigit(response.charCodeAt(end - 1))) end--;
  if (end === 0) return null;
  let start = end;
  while (start > 0 && isDigit(response.charCodeAt(start - 1))) start--;
  // Exponent: the digits we found may be the `3` of `1.5e-3`.
  const e = start - (start >= 2 && (response[start - 1] === '-' || response[start - 1] === '+') ? 2 : 1);
  if (e >= 1 && (response[e] === 'e' || response[e] === 'E') && isDigit(response.charCodeAt(e - 1))) {
    const mantissa = numberBefore(response, e);
    return mantissa + response.slice(e, end);
  }
  // A fraction a/b.
  if (start >= 2 && response.charCodeAt(start - 1) === 47 /* / */ && isDigit(response.charCodeAt(start - 2))) {
    const num = numberBefore(response, start - 1);
    if (!num.includes('.')) return num + '/' + response.slice(start, end);
  }
  return numberBefore(response, end);
}

/**
 * The number ending at `end` (a digit precedes it): digits, a decimal part, thousands groups
 * (`1,234,567`: every group after the first has exactly three digits) and a minus sign that does not
 * follow a digit or letter (`x=-5` is negative, `pages 3-5` ends in 5).
 */
function numberBefore(s: string, end: number): string {
  let i = end;
  while (i > 0 && isDigit(s.charCodeAt(i - 1))) i--;
  let frac = '', intEnd = end;
  if (i > 0 && s.charCodeAt(i - 1) === 46 /* . */) {
    frac = '.' + s.slice(i, end);
    intEnd = i - 1;
    i = intEnd;
    while (i > 0 && isDigit(s.charCodeAt(i - 1))) i--;
  }
  let int = s.slice(i, intEnd);
  let group = int.length;
  while (group === 3 && i >= 2 && s.charCodeAt(i - 1) === 44 /* , */ && isDigit(s.charCodeAt(i - 2))) {
    let j = i - 1;
    while (j > 0 && isDigit(s.charCodeAt(j - 1)) && i - 1 - j < 4) j--;
    group = i - 1 - j;
    if (group > 3 || (j > 0 && isDigit(s.charCodeAt(j - 1)))) break;
    int = s.slice(j, i - 1) + int;
    i = j;
  }
  if (int === '') int = '0';
  if (i > 0 && s.charCodeAt(i - 1) === 45 /* - */ && !(i > 1 && /[\p{L}\p{N}]/u.test(s[i - 2]!))) int = '-' + int;
  return int + frac;
}

const phrases = ['answer is', 'answer:', 'Answer:', 'Answer is', 'ANSWER:'];

/** The text after the last "answer is" / "Answer:" up to the end of its line, trimmed of `.`, `$` and `*`. */
export function extractAnswerPhrase(response: string): string | null {
  checkText(response, 'response');
  let best = -1, len = 0;
  for (const p of phrases) {
    const at = lastIndex(response, p);
    if (at > best) { best = at; len = p.length; }
  }
  if (best < 0) return null;
  let end = response.indexOf('\n', best + len);
  if (end < 0) end = response.length;
  let s = response.slice(best + len, end).trim();
  s = trimChars(s, '*:$ \t\r', '*$. \t\r');
  return s.length ? s : null;
}

/**
 * The answer of a response by `mode`:
 * - `boxed`: last `\boxed{}` (verl math); `gsm8k` / `gsm8k-flexible`: verl's two GSM8K methods;
 * - `last-number`; `answer-tag`: last `<answer>...</answer>`; `none`: the whole response, trimmed;
 * - `auto`: the first that finds something of boxed, answer tag, `####`, "the answer is", last number.
 */
export function extractAnswer(response: string, mode: ExtractMode = 'auto'): string | null {
  checkText(response, 'response');
  switch (mode) {
    case 'boxed': return extractBoxed(response);
    case 'gsm8k': return extractGsm8k(response, 'strict');
    case 'gsm8k-flexible': return extractGsm8k(response, 'flexible');
    case 'last-number': return extractLastNumber(response);
    case 'answer-tag': return extractAnswerTag(response);
    case 'none': return response.trim();
    case 'auto': {
      const tag = extractAnswerTag(response);
      const inner = tag ?? response;
      return extractBoxed(inner) ?? tag ?? extractGsm8k(response) ?? extractAnswerPhrase(response) ?? extractLastNumber(response);
    }
    default: return fail('E_VALUE', 'extract', `one of ${extractModes.join(', ')}`, describe(mode));
  }
}
