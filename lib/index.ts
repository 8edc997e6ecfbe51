/** rewardkit: the reward side of RL post-training on JS, a C++ addon and WebGPU. */
export { RewardkitError, type ErrorCode } from './errors.js';
export { grpoAdvantages, grpoPresets, type GrpoOptions, type GrpoResult, type GrpoScale, type GrpoConvention } from './advantage/grpo.js';
export { type Backend, chooseBackend } from './backends/select.js';
export { thresholds } from './backends/thresholds.js';
export { nativeStatus } from './backends/native.js';
export {
  GpuContext, createContext, getContext, disposeDefaultContext, gpuStatus,
  type GpuContextOptions, type AdapterDescription, type UploadMethod, uploadMethods, defaultUpload,
} from './backends/webgpu/context.js';
export { backendStatus, type BackendStatus } from './status.js';
export {
  tokenLogProbs, type TokenLogProbsOptions, type TokenLogProbsResult, type LogitsDtype,
} from './logits/logprobs.js';
export { entropyLoss, type EntropyLossOptions, type EntropyAggregation } from './logits/entropy.js';
export {
  klPenalty, klEstimators, type KlPenaltyOptions, type KlPenaltyResult, type KlEstimator, type KlPreset,
} from './kl/kl.js';
export { inRewardKl, type InRewardKlOptions, type InRewardKlResult } from './kl/reward.js';
export {
  FixedKlController, AdaptiveKlController, getKlController, type KlController, type KlControlConfig,
} from './kl/controller.js';
export {
  outcomeAdvantages, registerOutcomeEstimator, outcomeEstimators, outcomePresets,
  type OutcomeOptions, type OutcomeResult, type OutcomePreset, type OutcomeRowInput, type CustomEstimator,
} from './advantage/outcome.js';
export { processAdvantages, type ProcessOptions, type ProcessResult } from './advantage/process.js';
export { dynamicSamplingFilter, type DynamicSamplingOptions, type DynamicSamplingResult } from './advantage/dynamic.js';
// Token estimators, masked statistics and the DAPO overlong penalty.
export {
  maskedSum, maskedMean, maskedVar, maskedWhiten,
  type MaskedOptions, type MaskedVarOptions, type MaskedWhitenOptions, type MaskedResult, type MaskedAxis,
} from './advantage/masked.js';
export {
  reinforcePlusPlus, gae, remax,
  type TokenEstimatorOptions, type ReinforcePlusPlusOptions, type GaeOptions, type GaePreset, type RemaxOptions, type TokenAdvantageResult,
} from './advantage/token.js';
export { overlongPenalty, type OverlongOptions, type OverlongResult, type OverlongPreset } from './advantage/overlong.js';
export {
  policyLoss, policyPresets, type PolicyLossOptions, type PolicyLossResult, type PolicyLoss, type PolicyPreset, type PolicyMetrics,
} from './loss/policy.js';
export {
  aggLoss, valueLoss, type AggOptions, type AggLossOptions, type AggLossResult, type ValueLossOptions, type ValueLossResult,
} from './loss/agg.js';
export type { AggMode } from './loss/problem.js';
export { grpoStep, type GrpoStepOptions, type GrpoStepResult, type StepRead } from './loss/grpo-step.js';
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
export {
  scoreHeads, prepareHeads, type ScoreHeadsOptions, type ScoreHeadsResult, type RewardHead, type LinearHead, type MlpHead,
  type HeadActivation, type HiddenDtype, type HeadNormalization,
} from './scoring/heads.js';
export { pooledIndex, type Pooling } from './scoring/pool.js';
export { readSafetensors, loadHead, type Safetensors, type TensorInfo, type LoadHeadOptions } from './scoring/safetensors.js';
// The fused scoring pipeline: hidden states → heads → ensemble → shaping → GRPO advantages.
export {
  scorePipeline, type ScorePipelineOptions, type ScorePipelineResult, type PipelineRead, type PipelineEnsemble,
  type PipelineShaping, type PipelineAdvantages,
} from './scoring/pipeline.js';
// Diffusion RL: advantages (Flow-GRPO, DDPO, DanceGRPO), losses, DenseGRPO, TTSnap / B²-DiffuRL.
export {
  FlowGrpoTracker, DdpoTracker, danceGrpoAdvantages, keptSamples, type FlowGrpoTrackerOptions, type DdpoTrackerOptions,
  type PromptKey, type RewardInput,
} from './diffusion/tracker.js';
export {
  flowGrpoLoss, danceGrpoLoss, latentKl, d3poLoss, prdpLoss, paretoPrefer, type FlowGrpoLossOptions, type FlowGrpoLossResult,
  type StepMetrics, type DanceGrpoLossOptions, type LatentKlOptions, type D3poLossOptions, type PrdpLossOptions,
} from './diffusion/loss.js';
export { denseRewards, denseAdvantages, calibrateNoise, type DenseAdvantagesOptions, type CalibrateNoiseOptions } from './diffusion/dense.js';
export {
  ttsnapKeep, ttsnapSchedule, ttsnapPrune, ttsnapPick, b2Select, b2TrainSteps, roundHalfEven, type TtsnapScheduleOptions, type B2SelectOptions,
} from './diffusion/ttsnap.js';
// Diffusion dense-reward stepping: schedules and one sampling step with log-probability.
export {
  sd3Sigmas, fluxSigmas, fluxMu, danceSigmas, ddimSchedule, type FlowSchedule, type DdimSchedule, type DdimScheduleOptions,
  type TimestepSpacing,
} from './diffusion/schedules.js';
export {
  diffusionStep, prepareStep, finishStep, type DiffusionStepOptions, type DiffusionStepResult, type StepMethod, type LatentDtype, type Latents,
  type StepProblem,
} from './diffusion/step.js';
export { stepJs } from './diffusion/step.ref.js';
export { gaussianNoise } from './diffusion/rng.js';
// Reward-model evaluation metrics (docs/eval.md).
export {
  bradleyTerry, preferenceStrength, type BradleyTerryOptions, type BradleyTerryResult, type PreferenceStrengthOptions,
  type PreferenceStrengthResult,
} from './eval/preference.js';
export {
  pairwiseAccuracy, rewardBenchSections, rewardBenchScore, rewardBenchExampleCounts, rewardBenchSubsets, rewardBenchWeights,
  bestOfFour, tiesScore, rewardBench2Score, rewardBench2Domains, type TiesPrompt, type TiesResult,
} from './eval/rewardbench.js';
export { rewardMath, type RewardMathProblem, type RewardMathScores } from './eval/rewardmath.js';
export { selectBest, bestOfNEstimate, winRate, preferenceWinRate } from './eval/bon.js';
export {
  epicDistance, epicSampled, pearsonDistance, type EpicOptions, type EpicResult, type EpicSampledOptions, type EpicSampledResult,
  type RewardFn,
} from './eval/epic.js';
export { kendallTau, spearmanRho } from './eval/rank.js';
// Diffusion trajectories: the stepper (model and reward callbacks → log-probs, dense rewards, advantages, loss) and an analytic flow.
export {
  runTrajectories, trajectoryLoss, type RunTrajectoriesOptions, type TrajectoryResult, type Trajectory, type TrajectoryModel,
  type TrajectoryReward, type TrajectoryProgress, type VelocityInfo,
} from './diffusion/stepper.js';
export { gaussianFlow, type GaussianFlow, type GaussianFlowOptions } from './diffusion/analytic.js';
