/**
 * Normalisation of a math answer to a canonical string, after verl's strip_string (Hendrycks MATH,
 * verl/utils/reward_score/math.py) with a few additions listed in docs/rules.md. Every step is a
 * linear pass over a short string (an extracted answer).
 */
import { checkText } from './check.js';

export interface Normalized {
  /** The canonical text (no spaces, no `$`, `\dfrac` → `\frac`, ...). */
  text: string;
  /** A `%`, `\%` or "percent" was removed. */
  percent: boolean;
}

/** Units stripped when glued to a number (`5cm`); any word separated by a space is stripped (`5 apples`). */
const units = new Set([
  'm', 'cm', 'mm', 'km', 'g', 'kg', 'mg', 'l', 'ml', 's', 'h', 'min', 'hr', 'hrs', 'sec', 'ft', 'in', 'yd', 'mi',
  'lb', 'lbs', 'oz', 'mph', 'kmh', 'kph', 'units', 'unit', 'cents', 'dollars', 'degrees', 'deg', 'inches', 'feet',
  'meters', 'metres', 'miles', 'hours', 'minutes', 'seconds', 'days', 'years', 'sq', 'pm', 'am',
]);

const textMacro = /\\(?:text|textbf|textit|textrm|mathrm|mathbf|mathit|mbox|operatorname)\s*\{([^{}]*)\}/g;

/** `\frac12` → `\frac{1}{2}`, `\frac1{72}` → `\frac{1}{72}` (verl's fix_fracs). */
function fixFracs(s: string): string {
  const parts = s.split('\\frac');
  let out = parts[0]!;
  for (let k = 1; k < parts.length; k++) {
    const p = parts[k]!;
    out += '\\frac';
    if (p.startsWith('{') || p.length < 2) { out += p; continue; }
    const a = p[0]!, b = p[1]!;
    out += b === '{' ? `{${a}}${p.slice(1)}` : `{${a}}{${b}}${p.slice(2)}`;
  }
  return out;
}

/** `\sqrt3` → `\sqrt{3}` (verl's fix_sqrt, after spaces are gone so `\sqrt 3` works too). */
function fixSqrt(s: string): string {
  const parts = s.split('\\sqrt');
  let out = parts[0]!;
  for (let k = 1; k < parts.length; k++) {
    const p = parts[k]!;
    out += '\\sqrt' + (p.length && p[0] !== '{' && p[0] !== '[' ? `{${p[0]}}${p.slice(1)}` : p);
  }
  return out;
}

/**
 * Strips a unit tail: `\text{ cm}` (any `\text`-like macro) after something, a word separated by a
 * space (`5 apples`, `3 sq ft`), or a known unit glued to the number (`5cm`). Exponents on the unit
 * (`cm^2`, `m^{3}`) and `/` between words go with it.
 */
function stripUnits(s: string): string {
  // A trailing \text{...}: verl's remove_right_units drops everything after "\text{ ".
  for (let k = 0; k < 3; k++) {
    const m = /\\(?:text|mbox|mathrm|textrm)\s*\{[^{}]*\}\s*(?:\^\s*\{?[23]\}?\s*)?$/.exec(s);
    if (!m || !/[\d}]/.test(s.slice(0, m.index))) break;
    s = s.slice(0, m.index).trimEnd();
  }
  // Trailing words.
  let i = s.length;
  let glued = false, words = 0;
  for (;;) {
    let j = i;
    while (j > 0 && (s[j - 1] === ' ' || s[j - 1] === '/' || s[j - 1] === '.' || s[j - 1] === '²' || s[j - 1] === '³')) j--;
    let e = j;
    // `^2`, `^{3}` on the unit.
    const exp = /\^\s*\{?[23]\}?$/.exec(s.slice(Math.max(0, j - 6), j));
    if (exp) e = j - exp[0].length;
    let w = e;
    while (w > 0 && /[A-Za-z]/.test(s[w - 1]!)) w--;
    if (w === e || (w > 0 && s[w - 1] === '\\')) break; // no word, or a macro like \pi
    const word = s.slice(w, e).toLowerCase();
    const before = w > 0 ? s[w - 1]! : '';
    if (before !== ' ' && before !== '/' && before !== '') {
      if (!/[\d}%]/.test(before) || !units.has(word)) break;
      glued = true;
    }
    i = w;
    words++;
    if (glued) break;
  }
  if (!words) return s;
  const head = s.slice(0, i).trimEnd();
  // Only after a number: "x" or "\text{Monday}" stay.
  if (!/[\d}%)]$/.test(head) || !/\d/.test(head)) return s;
  return head;
}

const plainNumber = /^-?\d{1,15}(?:\.\d{1,15})?$/;

/** Normalises `answer` and reports whether it carried a percent sign. */
export function normalizeMath(answer: string): Normalized {
  let s = answer.trim();
  if (plainNumber.test(s)) return { text: s, percent: false }; // no step below changes these
  // Each group of steps runs only when its trigger character is there (most answers are short and plain).
  const latex = s.includes('\\');
  if (latex) {
    s = s.replace(/\\!/g, '').replace(/\\\\/g, '\\');
    s = s.replace(/\\(?:,|;|:|>| |quad|qquad)/g, ' ').replace(/\\\$/g, '').replace(/\\[()[\]]/g, '');
    s = s.replace(/\\displaystyle/g, '').replace(/[dt]frac/g, 'frac').replace(/\\left|\\right/g, '');
    s = s.replace(/\^\s*\{\s*\\circ\s*\}|\^\s*\\circ/g, '');
  }
  if (s.includes('$')) s = s.replace(/\$/g, '');
  if (/[^\x20-\x7e]/.test(s)) {
    s = s.replace(/\s/g, ' ').replace(/°/g, '').replace(/\u2212/g, '-');
    s = s.replace(/×/g, '\\times ').replace(/÷/g, '\\div ').replace(/·/g, '\\cdot ');
  }
  if (s.includes('~')) s = s.replace(/~/g, ' ');
  let percent = false;
  if (s.includes('%') || s.includes('percent')) {
    s = s.replace(/\\?%|(?<![A-Za-z])percent(?![A-Za-z])/g, () => { percent = true; return ''; }).trim();
  }
  if (/[A-Za-z]/.test(s)) {
    s = stripUnits(s);
    if (latex) s = s.replace(textMacro, '$1');
  }
  // "k = 5" → "5" when the left side is short (verl: at most two characters before '=').
  if (s.includes('=')) {
    const eq = s.split('=');
    if (eq.length === 2 && eq[0]!.length <= 2) s = eq[1]!;
  }
  s = s.replace(/\s+/g, '');
  if (s.includes(',')) {
    s = s.replace(/\{,\}/g, '');
    if (!/^(?:\(|\[|\\\{)/.test(s)) s = s.replace(/(\d),(?=\d{3}(?!\d))/g, '$1');
  }
  if (latex) s = fixFracs(fixSqrt(s));
  if (s.includes('.')) s = s.replace(/(^|[^\d])\.(\d)/g, '$10.$2');
  let end = s.length;
  while (end > 0 && s[end - 1] === '.') end--;
  s = s.slice(0, end);
  const slash = /^(-?)(0|[1-9]\d*)\/(0|[1-9]\d*)$/.exec(s);
  if (slash) s = `\\frac{${slash[1]}${slash[2]}}{${slash[3]}}`;
  return { text: s, percent };
}

/** The canonical form of a math answer (the text of normalizeMath; percent signs dropped like verl). */
export function normalizeAnswer(answer: string): string {
  checkText(answer, 'answer');
  return normalizeMath(answer).text;
}
