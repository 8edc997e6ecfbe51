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
  tokenLogProbs, type TokenLogProbsOptions, type TokenLogProbsResult, type LogitsDtype,
} from './logits/logprobs.js';
export { entropyLoss, type EntropyLossOptions, type EntropyAggregation } from './logits/entropy.js';
// Batched reward scoring: ensembles, PAR shaping, process rewards, potential shaping.
export {
  aggregateEnsemble, ensemblePresets, type EnsembleOptions, type EnsembleResult, type EnsembleMethod, type EnsemblePreset,
} from './scoring/ensemble.js';
export { shapeRewards, type ShapingOptions, type ShapingFlags, type ShapingResult, type Relative } from './scoring/shaping.js';
export { RunningStats, type BatchMoments, type RunningStatsState } from './scoring/running-stats.js';
export {
  aggregateSteps, clipDelta, bestOfN, weightedVote, type StepAggregation, type AggregateStepsOptions, type ClipDeltaOptions,
  type BestOfNOptions, type WeightedVoteOptions,
} from './scoring/prm.js';
export {
  potentialShaping, dopamineProgress, type PotentialShapingOptions, type DopamineOptions, type ProgressMode,
} from './scoring/pbrs.js';
