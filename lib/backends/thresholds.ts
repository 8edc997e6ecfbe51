/**
 * `auto` crossovers, in elements per call (for token ops: tokens + rows), per op.
 *
 * The built-in table: native 65,536 — from `npm run bench:suites` on the 2-core development machine
 * (docs/benchmarks.md): below it the JS reference wins (the addon's async hand-off costs ~0.04 ms).
 * webgpu 16,777,216 — an estimate until a hardware GPU run re-derives it: uploading through
 * queue.writeBuffer (2.4 GB/s on an H200, ENVIRONMENT.md) costs about what the addon needs on a
 * many-core host, so the GPU only pays off for very large calls. A software adapter is never picked.
 *
 * `rewardkit bench --derive-thresholds` measures the crossovers on the user's machine and writes
 * them to `thresholdsFile()`; that file, when present, overrides the built-in entries at load.
 */
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

export interface Threshold { native: number; webgpu: number }

const builtIn: Record<string, Threshold> = {
  default: { native: 65_536, webgpu: 16_777_216 },
  grpoAdvantages: { native: 65_536, webgpu: 16_777_216 },
};

/** Where derived thresholds live: $REWARDKIT_THRESHOLDS, else $XDG_CONFIG_HOME (~/.config)/rewardkit/thresholds.json. */
export function thresholdsFile(): string {
  return process.env['REWARDKIT_THRESHOLDS']
    ?? join(process.env['XDG_CONFIG_HOME'] || join(homedir(), '.config'), 'rewardkit', 'thresholds.json');
}

/** Entries of a thresholds file that are well formed (others are ignored: a bad file must not break `auto`). */
export function parseThresholds(text: string): Record<string, Threshold> {
  const out: Record<string, Threshold> = {};
  const json = JSON.parse(text) as { thresholds?: Record<string, Partial<Threshold>> };
  for (const [op, t] of Object.entries(json.thresholds ?? {})) {
    const ok = (x: unknown) => typeof x === 'number' && x >= 0;
    if (ok(t.native) || ok(t.webgpu)) {
      const base = builtIn[op] ?? builtIn['default']!;
      out[op] = { native: ok(t.native) ? t.native! : base.native, webgpu: ok(t.webgpu) ? t.webgpu! : base.webgpu };
    }
  }
  return out;
}

function load(): { table: Record<string, Threshold>; source: string } {
  const file = thresholdsFile();
  try {
    if (existsSync(file)) return { table: { ...builtIn, ...parseThresholds(readFileSync(file, 'utf8')) }, source: file };
  } catch { /* unreadable or malformed: the built-in table stands */ }
  return { table: { ...builtIn }, source: 'built-in' };
}

const loaded = load();
export const thresholds: Record<string, Threshold> = loaded.table;
/** 'built-in', or the file the table was read from. */
export const thresholdsSource: string = loaded.source;
