/** rewardkit: the reward side of RL post-training on JS, a C++ addon and WebGPU. */
export { RewardkitError, type ErrorCode } from './errors.js';
export { grpoAdvantages, grpoPresets, type GrpoOptions, type GrpoResult, type GrpoScale, type GrpoConvention } from './advantage/grpo.js';
export { type Backend, chooseBackend } from './backends/select.js';
export { thresholds } from './backends/thresholds.js';
export { nativeStatus } from './backends/native.js';
export {
  GpuContext, createContext, getContext, disposeDefaultContext, gpuStatus,
  type GpuContextOptions, type AdapterDescription,
} from './backends/webgpu/context.js';
export { backendStatus, type BackendStatus } from './status.js';
export {
  ruleRewards, autoWorkerThreshold, type RuleRewardsOptions, type RuleRewardsResult, type RuleFunction,
} from './rules/rewards.js';
export { ruleNames, type RuleName, type RuleOptions } from './rules/spec.js';
export {
  extractAnswer, extractBoxed, extractGsm8k, extractLastNumber, extractAnswerTag, extractAnswerPhrase, extractModes, type ExtractMode,
} from './rules/extract.js';
export { normalizeAnswer } from './rules/normalize.js';
export { isEquivalent, defaultTolerance, type Tolerance, type ToleranceOption } from './rules/equivalence.js';
export { formatReward, formatPresets, type FormatPreset, type FormatSpec } from './rules/format.js';
export { exactMatch, extractChoice, type MatchNormalization } from './rules/match.js';
export { f1Score, normalizeText } from './rules/f1.js';
export { combineRewards, type RewardAspect, type CombineRewardsOptions, type CombineRewardsResult } from './rules/compose.js';
export { closeRulePools } from './rules/pool.js';
