/**
 * KL controllers (verl core_algos.FixedKLController, AdaptiveKLController, get_kl_controller;
 * Ziegler et al. 2019). They hold one scalar and update it once per step from one scalar, so they
 * live in JS only: there is nothing for the addon or a GPU to speed up. Arithmetic in f64, as
 * verl's Python floats and np.clip.
 */
import { describe, fail } from '../errors.js';
import { checkEnum, checkFinite } from '../tensor.js';

export interface KlController {
  /** The current coefficient β. */
  readonly value: number;
  /** Called once per step with the batch KL (verl: current_kl) and the number of samples. */
  update(currentKl: number, nSteps: number): void;
}

/** β stays at klCoef. */
export class FixedKlController implements KlController {
  value: number;
  constructor(klCoef: number) {
    this.value = checkFinite(klCoef, 'klCoef');
  }
  update(currentKl: number, nSteps: number): void {
    checkFinite(currentKl, 'currentKl');
    checkFinite(nSteps, 'nSteps');
  }
}

/** β *= 1 + clip(kl/target − 1, −0.2, 0.2)·nSteps/horizon. */
export class AdaptiveKlController implements KlController {
  value: number;
  readonly target: number;
  readonly horizon: number;
  constructor(initKlCoef: number, targetKl: number, horizon: number) {
    this.value = checkFinite(initKlCoef, 'initKlCoef');
    this.target = checkFinite(targetKl, 'targetKl');
    // verl asserts horizon > 0; a zero target would divide by zero on the first update.
    this.horizon = checkFinite(horizon, 'horizon', 0);
    if (this.target === 0) fail('E_VALUE', 'targetKl', 'a finite nonzero number', describe(targetKl));
  }
  update(currentKl: number, nSteps: number): void {
    checkFinite(currentKl, 'currentKl');
    checkFinite(nSteps, 'nSteps');
    const error = Math.min(Math.max(currentKl / this.target - 1, -0.2), 0.2); // np.clip
    this.value *= 1 + (error * nSteps) / this.horizon;
  }
}

export interface KlControlConfig {
  /** 'fixed' (default) or 'adaptive'. */
  type?: 'fixed' | 'adaptive';
  /** Initial β (default 0.001, verl's KLControlConfig). */
  klCoef?: number;
  /** Adaptive: the KL to steer towards (default 0.1). */
  targetKl?: number;
  /** Adaptive: the horizon in samples (default 10000, must be > 0). */
  horizon?: number;
}

/** verl get_kl_controller(config.algorithm.kl_ctrl) with verl's defaults. */
export function getKlController(config: KlControlConfig = {}): FixedKlController | AdaptiveKlController {
  if (config === null || typeof config !== 'object') fail('E_VALUE', 'config', 'a KL control config object', describe(config));
  const type = checkEnum(config.type ?? 'fixed', 'type', ['fixed', 'adaptive'] as const);
  const klCoef = config.klCoef ?? 0.001;
  if (type === 'fixed') return new FixedKlController(klCoef);
  return new AdaptiveKlController(klCoef, config.targetKl ?? 0.1, config.horizon ?? 10000);
}
