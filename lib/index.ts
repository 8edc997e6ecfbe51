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
export {
  scoreHeads, prepareHeads, type ScoreHeadsOptions, type ScoreHeadsResult, type RewardHead, type LinearHead, type MlpHead,
  type HeadActivation, type HiddenDtype, type HeadNormalization,
} from './scoring/heads.js';
export { pooledIndex, type Pooling } from './scoring/pool.js';
export { readSafetensors, loadHead, type Safetensors, type TensorInfo, type LoadHeadOptions } from './scoring/safetensors.js';
