/**
 * `ruleRewards`: verifiable rule rewards for a batch of responses, on the calling thread or on a
 * worker_threads pool, with scores in input order.
 */
import { describe, fail } from '../errors.js';
import { checkRule, needsReferences, scoreBatch, type Reference, type RuleName, type RuleOptions } from './spec.js';
import { defaultPoolSize, rulePool } from './pool.js';
import type { ToleranceOption } from './equivalence.js';

/** A custom rule: any function of one response (and its reference); it runs on the calling thread. */
export type RuleFunction = (response: string, reference: string | readonly string[] | undefined, index: number) => number;

export interface RuleRewardsOptions {
  /** The responses to score. */
  responses: readonly string[];
  /** One reference per response, or several acceptable ones (the best match counts). Not for 'format'. */
  references?: readonly (string | readonly string[])[];
  /** A rule name, a rule with options, or a function. */
  rule: RuleName | RuleOptions | RuleFunction;
  /** Numeric tolerance for 'math' and 'gsm8k' (overrides the rule's): a number is relative. Default 1e-6. */
  tolerance?: ToleranceOption;
  /**
   * Worker threads: 'auto' (default) times the first 1,024 responses on the calling thread and moves
   * the rest to one worker per core when the batch has at least `autoWorkerThreshold` responses, a
   * response costs clearly more to score than to post (f1 on long text, heavy custom patterns); 0 or 1
   * scores on the calling thread; n uses a pool of n workers.
   */
  workers?: number | 'auto';
  /** Also return the extracted answer of each response. */
  details?: boolean;
}

export interface RuleRewardsResult {
  /** One score per response, in input order. */
  scores: Float32Array;
  /** With `details`: the answer extracted from each response (null when none; always null for 'format'). */
  answers?: (string | null)[];
}

/** Below this many responses 'auto' stays on the calling thread (bench/rules.ts, docs/rules.md). */
export const autoWorkerThreshold = 8192;
/** Responses 'auto' scores on the calling thread to time the rule. */
const probeSize = 1024;
/**
 * Posting a response to a worker and collecting its score costs about 1-3 ns per character of wall
 * time on the 2-core VM (bench/rules.ts: math on 1 KB takes 2-4 µs a response on the calling thread
 * and 3-12 µs through the pool). 'auto' moves the rest of a batch to the pool only when scoring costs
 * over 8 ns per character: a costly custom rule qualifies; the built-in rules (1-4 ns, F1 ~4 ns since
 * its single-pass tokenizer) never do.
 */
const postNsPerChar = 1;

export async function ruleRewards(options: RuleRewardsOptions): Promise<RuleRewardsResult> {
  if (typeof options !== 'object' || options === null) fail('E_VALUE', 'options', 'an options object', describe(options));
  const { responses, references, rule, tolerance, workers = 'auto', details = false } = options;
  if (!Array.isArray(responses)) fail('E_DTYPE', 'responses', 'an array of strings', describe(responses));
  const n = responses.length;
  for (let i = 0; i < n; i++) if (typeof responses[i] !== 'string') fail('E_DTYPE', `responses[${i}]`, 'a string', describe(responses[i]));
  if (references !== undefined) {
    if (!Array.isArray(references)) fail('E_DTYPE', 'references', 'an array of strings (or of string arrays)', describe(references));
    if (references.length !== n) fail('E_SHAPE', 'references', `length ${n} (one per response)`, `length ${references.length}`);
    for (let i = 0; i < n; i++) {
      const r = references[i];
      if (typeof r === 'string') continue;
      if (!Array.isArray(r) || r.length === 0) fail('E_DTYPE', `references[${i}]`, 'a string or a non-empty array of strings', describe(r));
      for (let k = 0; k < r.length; k++) if (typeof r[k] !== 'string') fail('E_DTYPE', `references[${i}][${k}]`, 'a string', describe(r[k]));
    }
  }
  if (workers !== 'auto' && (typeof workers !== 'number' || !Number.isSafeInteger(workers) || workers < 0 || workers > 256)) {
    fail('E_VALUE', 'workers', "'auto' or an integer from 0 to 256", describe(workers));
  }
  if (typeof details !== 'boolean') fail('E_VALUE', 'details', 'a boolean', describe(details));

  if (typeof rule === 'function') {
    if (typeof workers === 'number' && workers > 1) fail('E_VALUE', 'workers', "0, 1 or 'auto' for a function rule (it runs on the calling thread)", describe(workers));
    if (tolerance !== undefined) fail('E_VALUE', 'tolerance', 'no tolerance with a function rule', describe(tolerance));
    const scores = new Float32Array(n);
    for (let i = 0; i < n; i++) {
      const v = rule(responses[i]!, references?.[i], i);
      if (typeof v !== 'number' || !Number.isFinite(v)) fail('E_VALUE', `rule(responses[${i}])`, 'a finite number', describe(v));
      scores[i] = v;
    }
    return details ? { scores, answers: new Array<null>(n).fill(null) } : { scores };
  }

  const spec = checkRule(rule, tolerance);
  if (needsReferences(spec) && references === undefined) fail('E_VALUE', 'references', `references for rule '${spec.name}'`, 'undefined');
  const refs = needsReferences(spec) ? (references as readonly Reference[]) : undefined;
  if (workers === 'auto') {
    if (n < autoWorkerThreshold || defaultPoolSize() < 2) return scoreBatch(spec, responses, refs, 0, details);
    // Time the rule on the first responses, then decide where the rest goes.
    const t0 = performance.now();
    const head = scoreBatch(spec, responses.slice(0, probeSize), refs?.slice(0, probeSize), 0, details);
    const nsPerResponse = ((performance.now() - t0) * 1e6) / probeSize;
    let chars = 0;
    for (let i = 0; i < probeSize; i++) chars += responses[i]!.length;
    const rest = nsPerResponse > 8 * postNsPerChar * (chars / probeSize)
      ? await rulePool(defaultPoolSize()).run(spec, responses.slice(probeSize), refs?.slice(probeSize), details, undefined, probeSize)
      : scoreBatch(spec, responses.slice(probeSize), refs?.slice(probeSize), probeSize, details);
    const scores = new Float32Array(n);
    scores.set(head.scores);
    scores.set(rest.scores, probeSize);
    return details ? { scores, answers: [...head.answers!, ...rest.answers!] } : { scores };
  }
  if (workers <= 1 || n === 0) return scoreBatch(spec, responses, refs, 0, details);
  return rulePool(workers).run(spec, responses, refs, details);
}
