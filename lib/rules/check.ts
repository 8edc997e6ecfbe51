/** Input checks for the rule rewards: each returns the value or throws a RewardkitError naming the argument. */
import { describe, fail } from '../errors.js';

export function checkText(value: unknown, argument: string): string {
  if (typeof value !== 'string') fail('E_DTYPE', argument, 'a string', describe(value));
  return value;
}

/** One reference or several acceptable ones (a non-empty array of strings). */
export function checkReference(value: unknown, argument: string): string[] {
  if (typeof value === 'string') return [value];
  if (!Array.isArray(value) || value.length === 0) fail('E_DTYPE', argument, 'a string or a non-empty array of strings', describe(value));
  for (let i = 0; i < value.length; i++) checkText(value[i], `${argument}[${i}]`);
  return value as string[];
}
