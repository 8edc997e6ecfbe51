/**
 * `combineRewards`: one reward per response from several aspects (model scores and rule rewards),
 * weighted and summed, with gates: a gating aspect that fails sets the reward to a fail value.
 */
import { describe, fail } from '../errors.js';
import { ruleRewards, type RuleFunction } from './rewards.js';
import type { RuleName, RuleOptions } from './spec.js';
import type { ToleranceOption } from './equivalence.js';

export interface RewardAspect {
  /** A unique name; the aspect's scores come back under it. */
  name: string;
  /** Precomputed scores (a reward model's, say), one per response. */
  scores?: ArrayLike<number>;
  /** Or a rule scored on `responses` (see ruleRewards). */
  rule?: RuleName | RuleOptions | RuleFunction;
  /** References for this aspect's rule (default: the shared `references`). */
  references?: readonly (string | readonly string[])[];
  /** Weight in the sum. Default 1 (use 0 for a pure gate). */
  weight?: number;
  /**
   * Makes the aspect a gate: it passes when its score >= `min` (default 1, a passed rule); when it
   * fails the reward is `fail` (default: the options' `failValue`, 0).
   */
  gate?: boolean | { min?: number; fail?: number };
}

export interface CombineRewardsOptions {
  aspects: readonly RewardAspect[];
  /** The responses rule aspects score. */
  responses?: readonly string[];
  /** Shared references for rule aspects. */
  references?: readonly (string | readonly string[])[];
  /** Divide the weighted sum by the sum of weights. Default false. */
  normalizeWeights?: boolean;
  /** The reward of a response that fails a gate (unless the gate sets its own). Default 0. */
  failValue?: number;
  tolerance?: ToleranceOption;
  workers?: number | 'auto';
}

export interface CombineRewardsResult {
  /** The combined reward of each response. */
  rewards: Float32Array;
  /** Each aspect's scores, by name. */
  aspects: Record<string, Float32Array>;
  /** 1 where every gate passed. */
  passed: Uint8Array;
}

const finite = (v: unknown, argument: string): number => {
  if (typeof v !== 'number' || !Number.isFinite(v)) fail('E_VALUE', argument, 'a finite number', describe(v));
  return v;
};

export async function combineRewards(options: CombineRewardsOptions): Promise<CombineRewardsResult> {
  if (typeof options !== 'object' || options === null) fail('E_VALUE', 'options', 'an options object', describe(options));
  const { aspects, responses, references, normalizeWeights = false, workers, tolerance } = options;
  const failValue = options.failValue === undefined ? 0 : finite(options.failValue, 'failValue');
  if (!Array.isArray(aspects) || aspects.length === 0) fail('E_VALUE', 'aspects', 'a non-empty array of aspects', describe(aspects));
  if (typeof normalizeWeights !== 'boolean') fail('E_VALUE', 'normalizeWeights', 'a boolean', describe(normalizeWeights));

  // Shapes first, so no rule runs on a batch that cannot combine.
  let n = Array.isArray(responses) ? responses.length : -1;
  const names = new Set<string>();
  const checked = aspects.map((a: RewardAspect, k) => {
    const at = `aspects[${k}]`;
    if (typeof a !== 'object' || a === null) fail('E_VALUE', at, 'an aspect object', describe(a));
    if (typeof a.name !== 'string' || a.name === '') fail('E_VALUE', `${at}.name`, 'a non-empty string', describe(a.name));
    if (names.has(a.name)) fail('E_VALUE', `${at}.name`, 'a unique name', `the repeated name ${JSON.stringify(a.name)}`);
    names.add(a.name);
    if ((a.scores === undefined) === (a.rule === undefined)) fail('E_VALUE', at, 'exactly one of scores or rule', a.scores === undefined ? 'neither' : 'both');
    const weight = a.weight === undefined ? 1 : finite(a.weight, `${at}.weight`);
    let gate: { min: number; fail: number } | null = null;
    if (a.gate === true) gate = { min: 1, fail: failValue };
    else if (typeof a.gate === 'object' && a.gate !== null) {
      gate = {
        min: a.gate.min === undefined ? 1 : finite(a.gate.min, `${at}.gate.min`),
        fail: a.gate.fail === undefined ? failValue : finite(a.gate.fail, `${at}.gate.fail`),
      };
    } else if (a.gate !== undefined && a.gate !== false) fail('E_VALUE', `${at}.gate`, 'a boolean or { min?, fail? }', describe(a.gate));
    if (a.scores !== undefined) {
      const s = a.scores;
      if (typeof s !== 'object' || s === null || typeof s.length !== 'number') fail('E_DTYPE', `${at}.scores`, 'an array of numbers', describe(s));
      if (n < 0) n = s.length;
      if (s.length !== n) fail('E_SHAPE', `${at}.scores`, `length ${n} (one per response)`, `length ${s.length}`);
    } else if (!Array.isArray(responses)) {
      fail('E_VALUE', 'responses', `the responses for rule aspect ${JSON.stringify(a.name)}`, describe(responses));
    }
    return { aspect: a, weight, gate };
  });
  if (n < 0) n = 0;
  const weightSum = checked.reduce((sum, c) => sum + c.weight, 0);
  if (normalizeWeights && weightSum === 0) fail('E_VALUE', 'aspects', 'weights with a non-zero sum to normalise by', 'a sum of 0');

  const totals = new Float64Array(n);
  const passed = new Uint8Array(n).fill(1);
  const failAt = new Float64Array(n);
  const out: Record<string, Float32Array> = {};
  for (let k = 0; k < checked.length; k++) {
    const { aspect, weight, gate } = checked[k]!;
    let scores: Float32Array;
    if (aspect.scores !== undefined) {
      scores = new Float32Array(n);
      for (let i = 0; i < n; i++) scores[i] = finite(aspect.scores[i], `aspects[${k}].scores[${i}]`);
    } else {
      const refs = aspect.references ?? references;
      scores = (await ruleRewards({
        responses: responses!, rule: aspect.rule!,
        ...(refs !== undefined ? { references: refs } : {}),
        ...(tolerance !== undefined && typeof aspect.rule !== 'function' ? { tolerance } : {}),
        ...(workers !== undefined ? { workers } : {}),
      })).scores;
    }
    out[aspect.name] = scores;
    for (let i = 0; i < n; i++) {
      totals[i] += weight * scores[i]!;
      if (gate && passed[i] && !(scores[i]! >= gate.min)) { passed[i] = 0; failAt[i] = gate.fail; }
    }
  }
  const rewards = new Float32Array(n);
  for (let i = 0; i < n; i++) rewards[i] = passed[i] ? (normalizeWeights ? totals[i]! / weightSum : totals[i]!) : failAt[i]!;
  return { rewards, aspects: out, passed };
}
