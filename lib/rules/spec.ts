/**
 * Rule specifications: the options a caller gives, checked into a plain serialisable RuleSpec (it is
 * posted to the worker threads as is), and the batch loop that scores responses with one.
 */
import { describe, fail } from '../errors.js';
import { extractAnswer, extractGsm8k, extractModes, type ExtractMode } from './extract.js';
import { checkTolerance, equivalent, type Tolerance, type ToleranceOption } from './equivalence.js';
import { compileFormat, type FormatSpec } from './format.js';
import { choice, matches, matchNormalizations, type MatchNormalization } from './match.js';
import { f1 } from './f1.js';

export type RuleName = 'math' | 'gsm8k' | 'format' | 'exact' | 'choice' | 'f1';
export const ruleNames: readonly RuleName[] = ['math', 'gsm8k', 'format', 'exact', 'choice', 'f1'];

/** A rule with its options; every field but `name` has a default per rule (docs/rules.md). */
export interface RuleOptions {
  name: RuleName;
  /** How the answer is taken from the response (math: 'boxed', gsm8k: 'gsm8k', exact and f1: 'none'). */
  extract?: ExtractMode;
  /** math, gsm8k: numeric tolerance; a number is relative. Default 1e-6 relative. */
  tolerance?: ToleranceOption;
  /** format: the preset or a regular expression. Default 'think-answer'. */
  format?: FormatSpec;
  /** exact: the normalisation before comparing. Default 'squad'. */
  normalize?: MatchNormalization;
  /** choice: the allowed letters. Default 'ABCDEFGHIJ'. */
  letters?: string;
  /** math, gsm8k, exact, choice: the score of a correct, a wrong and a missing answer. Default 1, 0, 0. */
  values?: { correct?: number; incorrect?: number; missing?: number };
}

/** A checked rule: plain data, every field filled. */
export interface RuleSpec {
  name: RuleName;
  extract: ExtractMode;
  tolerance: Tolerance;
  format: FormatSpec;
  normalize: MatchNormalization;
  letters: string;
  values: { correct: number; incorrect: number; missing: number };
}

const defaultExtract: Record<RuleName, ExtractMode> = { math: 'boxed', gsm8k: 'gsm8k', format: 'none', exact: 'none', choice: 'none', f1: 'none' };

/** Whether a rule compares against references (all but format). */
export const needsReferences = (spec: RuleSpec) => spec.name !== 'format';

export function checkRule(rule: unknown, tolerance?: unknown, argument = 'rule'): RuleSpec {
  const options = (typeof rule === 'string' ? { name: rule } : rule) as RuleOptions;
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    fail('E_VALUE', argument, `a rule name (${ruleNames.join(', ')}), rule options or a function`, describe(rule));
  }
  const at = typeof rule === 'string' ? argument : `${argument}.name`;
  if (!ruleNames.includes(options.name)) fail('E_VALUE', at, `one of ${ruleNames.map((r) => `'${r}'`).join(', ')}`, describe(options.name));
  const name = options.name;
  const extract = options.extract ?? defaultExtract[name];
  if (!extractModes.includes(extract)) fail('E_VALUE', `${argument}.extract`, `one of ${extractModes.join(', ')}`, describe(extract));
  const tol = tolerance !== undefined ? checkTolerance(tolerance, 'tolerance') : checkTolerance(options.tolerance, `${argument}.tolerance`);
  const format = options.format ?? 'think-answer';
  compileFormat(format, `${argument}.format`); // throws on a bad preset or pattern
  const normalize = options.normalize ?? 'squad';
  if (!matchNormalizations.includes(normalize)) fail('E_VALUE', `${argument}.normalize`, "'squad', 'trim' or 'none'", describe(normalize));
  const letters = options.letters ?? 'ABCDEFGHIJ';
  if (typeof letters !== 'string' || !/^[A-Za-z]+$/.test(letters)) fail('E_VALUE', `${argument}.letters`, 'a string of letters', describe(letters));
  const v = options.values ?? {};
  if (typeof v !== 'object' || v === null) fail('E_VALUE', `${argument}.values`, '{ correct?, incorrect?, missing? }', describe(v));
  const value = (x: unknown, key: string, d: number) => {
    if (x === undefined) return d;
    if (typeof x !== 'number' || !Number.isFinite(x)) fail('E_VALUE', `${argument}.values.${key}`, 'a finite number', describe(x));
    return x;
  };
  return {
    name, extract, tolerance: tol,
    format: typeof format === 'string' ? format : { pattern: format.pattern, ...(format.flags !== undefined ? { flags: format.flags } : {}) },
    normalize, letters: letters.toUpperCase(),
    values: { correct: value(v.correct, 'correct', 1), incorrect: value(v.incorrect, 'incorrect', 0), missing: value(v.missing, 'missing', 0) },
  };
}

export type Reference = string | readonly string[];

/** Scores of a batch, and the extracted answers when asked. */
export interface BatchResult { scores: Float32Array; answers?: (string | null)[] }

/**
 * Scores responses[i] against references[i] with a checked rule. `offset` is the index of responses[0]
 * in the caller's batch, for error messages. Types are checked by the caller.
 */
export function scoreBatch(spec: RuleSpec, responses: readonly string[], references: readonly Reference[] | undefined, offset: number, wantAnswers: boolean): BatchResult {
  if (!ruleNames.includes(spec?.name)) fail('E_VALUE', 'rule.name', `one of ${ruleNames.join(', ')}`, describe(spec?.name));
  const n = responses.length;
  const scores = new Float32Array(n);
  const answers: (string | null)[] | undefined = wantAnswers ? new Array(n) : undefined;
  const { correct, incorrect, missing } = spec.values;
  const refsAt = (i: number): readonly string[] => {
    const r = references?.[i];
    if (r === undefined) return fail('E_VALUE', 'references', `a reference for rule '${spec.name}'`, `none for responses[${offset + i}]`);
    return typeof r === 'string' ? [r] : r;
  };
  switch (spec.name) {
    case 'format': {
      const f = compileFormat(spec.format);
      for (let i = 0; i < n; i++) scores[i] = f(responses[i]!);
      if (answers) answers.fill(null);
      break;
    }
    case 'math':
    case 'gsm8k': {
      for (let i = 0; i < n; i++) {
        const answer = extractAnswer(responses[i]!, spec.extract);
        if (answers) answers[i] = answer;
        if (answer === null) { scores[i] = missing; continue; }
        let ok = false;
        for (const r of refsAt(i)) {
          // GSM8K references are often whole solutions: take the part after ####.
          const ref = spec.name === 'gsm8k' && r.includes('####') ? extractGsm8k(r) ?? r : r;
          if (equivalent(answer, ref, spec.tolerance)) { ok = true; break; }
        }
        scores[i] = ok ? correct : incorrect;
      }
      break;
    }
    case 'exact': {
      for (let i = 0; i < n; i++) {
        const answer = extractAnswer(responses[i]!, spec.extract);
        if (answers) answers[i] = answer;
        scores[i] = answer === null ? missing : matches(answer, refsAt(i), spec.normalize) ? correct : incorrect;
      }
      break;
    }
    case 'f1': {
      for (let i = 0; i < n; i++) {
        const answer = extractAnswer(responses[i]!, spec.extract);
        if (answers) answers[i] = answer;
        scores[i] = answer === null ? 0 : f1(answer, refsAt(i));
      }
      break;
    }
    case 'choice': {
      for (let i = 0; i < n; i++) {
        const refs = refsAt(i);
        const answer = choice(responses[i]!, spec.letters);
        if (answers) answers[i] = answer;
        let ok = false;
        for (let k = 0; k < refs.length; k++) {
          const letter = choice(refs[k]!, spec.letters);
          if (letter === null) {
            const at = typeof references![i] === 'string' ? `references[${offset + i}]` : `references[${offset + i}][${k}]`;
            fail('E_VALUE', at, `a choice letter in ${spec.letters}`, describe(refs[k]));
          }
          if (letter === answer) ok = true;
        }
        scores[i] = answer === null ? missing : ok ? correct : incorrect;
      }
      break;
    }
  }
  return answers ? { scores, answers } : { scores };
}
