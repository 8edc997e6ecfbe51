/**
 * Format rewards by pattern. The presets are written as linear scans that decide exactly what the
 * reference regexes decide (Python `re.match` with DOTALL | MULTILINE), without their backtracking.
 */
import { checkText } from './check.js';
import { describe, fail } from '../errors.js';

/**
 * - `think-answer`: open-r1's format_reward, `^<think>\n.*?\n</think>\n<answer>\n.*?\n</answer>$`;
 * - `think`: TRL's think_format_reward, `^<think>(?!.*<think>)(.*?)</think>.*$`;
 * - `tag-count`: open-r1's tag_count_reward, 0.25 for each of `<think>\n`, `\n</think>\n`,
 *   `\n<answer>\n`, `\n</answer>` found exactly once;
 * - `{ pattern, flags }`: 1 when a regular expression (JS syntax) matches anywhere, as RegExp.test.
 */
export type FormatPreset = 'think-answer' | 'think' | 'tag-count';
export type FormatSpec = FormatPreset | { pattern: string; flags?: string };
export const formatPresets: readonly FormatPreset[] = ['think-answer', 'think', 'tag-count'];

function thinkAnswer(s: string): number {
  if (!s.startsWith('<think>\n')) return 0;
  // The earliest middle leaves the most room for the end, so it decides.
  const mid = s.indexOf('\n</think>\n<answer>\n', 8);
  if (mid < 0) return 0;
  // `\n</answer>` followed by the end or a newline (MULTILINE `$`), anywhere after the middle.
  for (let at = s.indexOf('\n</answer>', mid + 19); at >= 0; at = s.indexOf('\n</answer>', at + 1)) {
    const after = at + 10;
    if (after === s.length || s.charCodeAt(after) === 10) return 1;
  }
  return 0;
}

function think(s: string): number {
  return s.startsWith('<think>') && s.indexOf('<think>', 7) < 0 && s.indexOf('</think>', 7) >= 0 ? 1 : 0;
}

function countOnce(s: string, tag: string): boolean {
  const first = s.indexOf(tag);
  return first >= 0 && s.indexOf(tag, first + 1) < 0;
}

function tagCount(s: string): number {
  return (countOnce(s, '<think>\n') ? 0.25 : 0) + (countOnce(s, '\n</think>\n') ? 0.25 : 0)
    + (countOnce(s, '\n<answer>\n') ? 0.25 : 0) + (countOnce(s, '\n</answer>') ? 0.25 : 0);
}

/** A checked, compiled format: the function scores one response. */
export function compileFormat(spec: unknown, argument = 'format'): (response: string) => number {
  if (spec === 'think-answer') return thinkAnswer;
  if (spec === 'think') return think;
  if (spec === 'tag-count') return tagCount;
  if (typeof spec === 'object' && spec !== null && typeof (spec as { pattern?: unknown }).pattern === 'string') {
    const { pattern, flags } = spec as { pattern: string; flags?: unknown };
    if (flags !== undefined && typeof flags !== 'string') fail('E_VALUE', `${argument}.flags`, 'a string of RegExp flags', describe(flags));
    let re: RegExp;
    try {
      re = new RegExp(pattern, (flags ?? '').replace(/[gy]/g, '')); // stateless: no lastIndex between responses
    } catch (e) {
      return fail('E_VALUE', `${argument}.pattern`, 'a valid regular expression', `${describe(pattern)} (${(e as Error).message})`);
    }
    return (s) => (re.test(s) ? 1 : 0);
  }
  return fail('E_VALUE', argument, `one of ${formatPresets.map((p) => `'${p}'`).join(', ')} or { pattern, flags? }`, describe(spec));
}

/** The format reward of one response (default `think-answer`). */
export function formatReward(response: string, format: FormatSpec = 'think-answer'): number {
  checkText(response, 'response');
  return compileFormat(format)(response);
}
