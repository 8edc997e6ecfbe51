/** Every op declaration `rewardkit bench` runs: one file per family. */
import type { OpBench } from '../types.js';
import { advantageOps } from './advantages.js';
import { lossOps } from './losses.js';
import { scoringOps } from './scoring.js';
import { evalOps } from './eval.js';
import { ruleOps } from './rules.js';
import { diffusionOps } from './diffusion.js';

export const allOps: readonly OpBench[] = [...advantageOps, ...lossOps, ...scoringOps, ...evalOps, ...ruleOps, ...diffusionOps];
