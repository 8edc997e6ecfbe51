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
  policyLoss, policyPresets, type PolicyLossOptions, type PolicyLossResult, type PolicyLoss, type PolicyPreset, type PolicyMetrics,
} from './loss/policy.js';
export {
  aggLoss, valueLoss, type AggOptions, type AggLossOptions, type AggLossResult, type ValueLossOptions, type ValueLossResult,
} from './loss/agg.js';
export type { AggMode } from './loss/problem.js';
export { grpoStep, type GrpoStepOptions, type GrpoStepResult, type KlEstimator, type StepRead } from './loss/grpo-step.js';
