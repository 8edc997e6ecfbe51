/**
 * Equivalence of two math answers: equal canonical strings (verl's is_equiv), else equal values within
 * a tolerance (numbers, fractions, percentages, simple LaTeX), else element-wise for tuples and
 * intervals with the same brackets.
 */
import { checkText } from './check.js';
import { describe, fail } from '../errors.js';
import { normalizeMath, type Normalized } from './normalize.js';
import { evaluateNumber } from './number.js';

/**
 * |a − b| <= abs + rel·max(|a|, |b|); with `exactIntegers` two integer values must be equal (a
 * relative tolerance would make 1000001 equal 1000000).
 */
export interface Tolerance { rel: number; abs: number; exactIntegers: boolean }

/** 1e-6 relative: `\frac{1}{3}` equals 0.333333 but not 0.333; no absolute slack (1e-12 ≠ 0); integers exact. */
export const defaultTolerance: Readonly<Tolerance> = Object.freeze({ rel: 1e-6, abs: 0, exactIntegers: true });

/**
 * A number is a relative tolerance; an object sets either part (the other defaults to 0).
 * `exactIntegers` defaults to true in both forms.
 */
export type ToleranceOption = number | { rel?: number; abs?: number; exactIntegers?: boolean };

export function checkTolerance(value: unknown, argument = 'tolerance'): Tolerance {
  if (value === undefined) return { ...defaultTolerance };
  const part = (v: unknown, name: string): number => {
    if (v === undefined) return 0;
    if (typeof v !== 'number' || Number.isNaN(v)) fail('E_VALUE', name, 'a number >= 0', describe(v));
    if (v < 0) fail('E_RANGE', name, 'a number >= 0', describe(v));
    return v;
  };
  if (typeof value === 'number') return { rel: part(value, argument), abs: 0, exactIntegers: true };
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    fail('E_VALUE', argument, 'a number or { rel?, abs?, exactIntegers? }', describe(value));
  }
  const t = value as { rel?: unknown; abs?: unknown; exactIntegers?: unknown };
  if (t.exactIntegers !== undefined && typeof t.exactIntegers !== 'boolean') fail('E_VALUE', `${argument}.exactIntegers`, 'a boolean', describe(t.exactIntegers));
  return { rel: part(t.rel, `${argument}.rel`), abs: part(t.abs, `${argument}.abs`), exactIntegers: t.exactIntegers ?? true };
}

export function closeEnough(a: number, b: number, tol: Tolerance): boolean {
  if (a === b) return true;
  if (!Number.isFinite(a) || !Number.isFinite(b)) return false;
  if (tol.exactIntegers && Number.isInteger(a) && Number.isInteger(b)) return false;
  return Math.abs(a - b) <= tol.abs + tol.rel * Math.max(Math.abs(a), Math.abs(b));
}

/**
 * Values of two normalised answers: equal, or, when exactly one carries a percent sign, equal after
 * dividing that one by 100 (`50%` ≡ `0.5`; `50%` ≡ `50` as in verl, which drops `\%`).
 */
function sameValue(a: Normalized, b: Normalized, tol: Tolerance): boolean {
  const x = evaluateNumber(a.text);
  if (x === null) return false;
  const y = evaluateNumber(b.text);
  if (y === null) return false;
  if (closeEnough(x, y, tol)) return true;
  if (a.percent !== b.percent) return a.percent ? closeEnough(x / 100, y, tol) : closeEnough(x, y / 100, tol);
  return false;
}

const brackets: Record<string, string> = { '(': ')', '[': ']' };

/** `(1,2]` → ['(', ['1', '2'], ']'] when the brackets are the outermost pair; null otherwise. */
function splitTuple(s: string): [string, string[], string] | null {
  let open = s[0]!, start = 1;
  if (s.startsWith('\\{')) { open = '\\{'; start = 2; }
  else if (!(open in brackets)) return null;
  const close = s.endsWith('\\}') ? '\\}' : s[s.length - 1]!;
  if (open === '\\{' ? close !== '\\}' : close !== ')' && close !== ']') return null;
  const end = s.length - close.length;
  if (end <= start) return null;
  const parts: string[] = [];
  let depth = 0, from = start;
  for (let i = start; i < end; i++) {
    const c = s[i];
    if (c === '(' || c === '[' || c === '{') depth++;
    else if (c === ')' || c === ']' || c === '}') { if (--depth < 0) return null; }
    else if (c === ',' && depth === 0) { parts.push(s.slice(from, i)); from = i + 1; }
  }
  if (depth !== 0) return null;
  parts.push(s.slice(from, end));
  return [open, parts, close];
}

function equivalentNormalized(a: Normalized, b: Normalized, tol: Tolerance, nested: boolean): boolean {
  if (a.text.length === 0 || b.text.length === 0) return false;
  if (a.text === b.text) return true;
  if (sameValue(a, b, tol)) return true;
  if (nested) return false;
  const ta = splitTuple(a.text), tb = splitTuple(b.text);
  if (!ta || !tb || ta[0] !== tb[0] || ta[2] !== tb[2] || ta[1].length !== tb[1].length || ta[1].length < 2) return false;
  for (let i = 0; i < ta[1].length; i++) {
    if (!equivalentNormalized(normalizeMath(ta[1][i]!), normalizeMath(tb[1][i]!), tol, true)) return false;
  }
  return true;
}

/**
 * Whether `answer` is the same math answer as `reference`. An empty answer is never equivalent.
 * @param tolerance a relative tolerance, or { rel, abs }; default 1e-6 relative.
 */
export function isEquivalent(answer: string, reference: string, tolerance?: ToleranceOption): boolean {
  checkText(answer, 'answer');
  checkText(reference, 'reference');
  return equivalent(answer, reference, checkTolerance(tolerance));
}

/** isEquivalent without the checks, for the batch loops. */
export function equivalent(answer: string, reference: string, tol: Tolerance): boolean {
  return equivalentNormalized(normalizeMath(answer), normalizeReference(reference), tol, false);
}

// GRPO batches hold each prompt's reference once per sampled response, one after the other.
let lastReference = '', lastNormalized: Normalized = { text: '', percent: false };
function normalizeReference(reference: string): Normalized {
  if (reference !== lastReference) { lastNormalized = normalizeMath(reference); lastReference = reference; }
  return lastNormalized;
}
